# Shared by the dev scripts: install dependencies when needed, start/stop the local broker.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

require_tools() {
  local missing=()
  command -v node >/dev/null || missing+=("node (>= 20.19)")
  command -v npm >/dev/null || missing+=("npm")
  command -v java >/dev/null || missing+=("java (>= 17)")
  command -v mvn >/dev/null || missing+=("mvn (Apache Maven, fetches the Kafka broker)")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing on PATH: ${missing[*]}" >&2
    exit 1
  fi
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    { echo "Node.js >= 20.19 is required (found $(node --version))" >&2; exit 1; }
}

install_deps() {
  # The lockfile is the source of truth: `npm ci` when it changed since the last install.
  local stamp="$repo/node_modules/.seqcast-lock-sha"
  local want
  want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
  if [ "${CI:-}" = "true" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing npm dependencies (npm ci)"
    (cd "$repo" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}
