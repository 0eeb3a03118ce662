# Sourced by the dev and CI scripts: puts the supported Node.js LTS first on PATH.
#
# Seqcast runs on Node.js 24 (LTS, maintained until April 2028; Node 20 reached its end of life in
# April 2026). When the machine's `node` is older, the pinned release is installed once from the npm
# registry (the `node-linux-<arch>` packages carry the official binaries), so a fresh clone needs no
# other download source. SEQCAST_NODE_VERSION overrides the pin; SEQCAST_CACHE_DIR the cache.
seqcast_node_version=${SEQCAST_NODE_VERSION:-24.22.3}
seqcast_node_major=${seqcast_node_version%%.*}

ensure_node_runtime() {
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$have" -ge "$seqcast_node_major" ] && return 0

  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-runtime: no Node.js $seqcast_node_major package for $(uname -m); install Node.js $seqcast_node_major yourself" >&2; return 1 ;;
  esac
  local cache=${SEQCAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/seqcast}
  local prefix="$cache/node-$seqcast_node_version-$arch"
  local bin="$prefix/node_modules/node-linux-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || { echo "node-runtime: npm is needed to install Node.js $seqcast_node_version" >&2; return 1; }
    echo "node-runtime: installing Node.js $seqcast_node_version from the npm registry into $prefix (first run only)"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-$arch@$seqcast_node_version" >/dev/null || {
      echo "node-runtime: could not install node-linux-$arch@$seqcast_node_version" >&2
      return 1
    }
  fi
  export PATH="$bin:$PATH"
  hash -r
}
