# Shared by the dev scripts: install dependencies when needed, start/stop the local broker.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
. "$repo/tools/dev/node-runtime.sh"

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

require_tools() {
  local missing=()
  command -v npm >/dev/null || missing+=("npm (with Node.js; the scripts install Node.js 24 when it is older)")
  command -v java >/dev/null || missing+=("java (>= 17)")
  command -v mvn >/dev/null || missing+=("mvn (Apache Maven, fetches the Kafka broker)")
  command -v openssl >/dev/null || missing+=("openssl (the Kafka TLS/SASL tests make their certificates with it)")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing on PATH: ${missing[*]}" >&2
    exit 1
  fi
  ensure_node_runtime || exit 1
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

ensure_chromium() {
  # The web console's browser test drives Debian's chromium package (never a downloaded browser
  # build). A fresh machine does not have it: install it then, and only then.
  [ -x /usr/bin/chromium ] && return 0
  log "installing Debian's chromium package (for the web console's browser test)"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null ||
    { echo "could not install chromium (apt-get install -y chromium as root); the browser test needs /usr/bin/chromium" >&2; return 1; }
}
