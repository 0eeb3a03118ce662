#!/usr/bin/env bash
# Quick start: installs dependencies, starts Kafka, ensures the database, builds and starts every
# service in services.json in the background, then runs the demo (a publisher and a subscriber
# printing ordered output). Leaves the stack running; `npm run stop:local` stops it.
#
# Each service listens on its services.json port unless <NAME>_PORT is set (e.g. INGEST_API_PORT,
# EDGE_GATEWAY_PORT, ORDERING_WORKER_PORT); its management port (probes, /metrics) is its default.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

require_tools
install_deps
log "starting Kafka"
bash tools/kafka/kafka.sh start
log "ensuring the database"
node tools/db/ensure-database.cjs
# name port managementPort kind, one line per service in services.json.
mapfile -t services < <(node tools/dev/services.cjs)
names=()
for line in "${services[@]}"; do names+=("${line%% *}"); done
# INGEST_API_PORT for ingest-api: the port override variable of each service.
port_of() {
  local name=$1 line var n port
  var="$(tr 'a-z-' 'A-Z_' <<<"$name")_PORT"
  for line in "${services[@]}"; do
    read -r n port _ <<<"$line"
    [ "$n" = "$name" ] && { echo "${!var:-$port}"; return; }
  done
}
log "building the services and the web console"
npx nx run-many -t build -p "${names[@]}" --outputStyle=static >/dev/null
npx nx run web-console:build --outputStyle=static >/dev/null

mkdir -p .local/logs .local/pids
start_service() {
  local name=$1 port=$2 script=${3:-dist/apps/$1/main.js}
  local pidfile=".local/pids/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  PORT=$port nohup node "$script" >".local/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
  echo "$name: pid $!, port $port, log .local/logs/$name.log"
}
log "starting services"
console_port=${CONSOLE_PORT:-3003}
# The console's page talks to the gateway from its own origin (Socket.IO long-polling is CORS);
# publishing goes through the console server, so ingest-api needs no CORS.
export SEQCAST_ALLOWED_ORIGINS=${SEQCAST_ALLOWED_ORIGINS:-http://127.0.0.1:$console_port,http://localhost:$console_port}
for name in "${names[@]}"; do start_service "$name" "$(port_of "$name")"; done
ingest_url="http://127.0.0.1:$(port_of ingest-api)"
gateway_url="http://127.0.0.1:$(port_of edge-gateway)"
# Development only: this server also mints dev tokens (never with NODE_ENV=production).
CONSOLE_PORT=$console_port INGEST_URL="$ingest_url" GATEWAY_URL="$gateway_url" \
  start_service web-console "$console_port" apps/web-console/server/console-server.cjs

wait_ready() {
  local name=$1 port=$2 deadline=$((SECONDS + 60))
  local path=${3:-/readyz}
  until curl -fsS "http://127.0.0.1:$port$path" >/dev/null 2>&1; do
    if ! kill -0 "$(cat ".local/pids/$name.pid")" 2>/dev/null; then
      echo "$name exited during start-up; last lines of .local/logs/$name.log:" >&2
      tail -n 20 ".local/logs/$name.log" >&2
      exit 1
    fi
    [ $SECONDS -lt $deadline ] || { echo "$name not ready after 60s (see .local/logs/$name.log)" >&2; exit 1; }
    sleep 0.5
  done
  echo "$name ready on :$port"
}
for name in "${names[@]}"; do wait_ready "$name" "$(port_of "$name")"; done
wait_ready web-console "$console_port" /healthz

log "demo: publishing to 3 rooms and printing what a subscriber receives"
INGEST_URL="$ingest_url" GATEWAY_URL="$gateway_url" node tools/demo/demo.cjs

echo
echo "Seqcast is running:"
for line in "${services[@]}"; do
  read -r name _ management kind <<<"$line"
  printf '  %-16s http://127.0.0.1:%s   (%s; probes and /metrics on :%s)\n' "$name" "$(port_of "$name")" "$kind" "$management"
done
cat <<MSG
  web console      http://127.0.0.1:$console_port   (open in a browser; "use a development token" signs in)
  Kafka            127.0.0.1:${KAFKA_PORT:-9092}
Logs: .local/logs/   Run the demo again: node tools/demo/demo.cjs   Stop: npm run stop:local
MSG
