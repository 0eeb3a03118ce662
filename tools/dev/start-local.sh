#!/usr/bin/env bash
# Quick start: installs dependencies, starts Kafka, ensures the database, builds and starts the three
# services in the background, then runs the demo (a publisher and a subscriber printing ordered
# output). Leaves the stack running; `npm run stop:local` stops it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

require_tools
install_deps
log "starting Kafka"
bash tools/kafka/kafka.sh start
log "ensuring the database"
node tools/db/ensure-database.cjs
log "building the services and the web console"
npm run build --silent
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
start_service ordering-worker "${WORKER_PORT:-3002}"
start_service ingest-api "${INGEST_PORT:-3000}"
start_service edge-gateway "${GATEWAY_PORT:-3001}"
# Development only: this server also mints dev tokens (never with NODE_ENV=production).
CONSOLE_PORT=$console_port INGEST_URL="http://127.0.0.1:${INGEST_PORT:-3000}" GATEWAY_URL="http://127.0.0.1:${GATEWAY_PORT:-3001}" \
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
wait_ready ordering-worker "${WORKER_PORT:-3002}"
wait_ready ingest-api "${INGEST_PORT:-3000}"
wait_ready edge-gateway "${GATEWAY_PORT:-3001}"
wait_ready web-console "$console_port" /healthz

log "demo: publishing to 3 rooms and printing what a subscriber receives"
INGEST_URL="http://127.0.0.1:${INGEST_PORT:-3000}" GATEWAY_URL="http://127.0.0.1:${GATEWAY_PORT:-3001}" \
  node tools/demo/demo.cjs

cat <<MSG

Seqcast is running:
  ingest-api       http://127.0.0.1:${INGEST_PORT:-3000}   (POST /v1/rooms/:roomId/messages)
  edge-gateway     http://127.0.0.1:${GATEWAY_PORT:-3001}   (Socket.IO)
  ordering-worker  http://127.0.0.1:${WORKER_PORT:-3002}   (/healthz, /readyz)
  web console      http://127.0.0.1:$console_port   (open in a browser; "use a development token" signs in)
  Kafka            127.0.0.1:${KAFKA_PORT:-9092}
Logs: .local/logs/   Run the demo again: node tools/demo/demo.cjs   Stop: npm run stop:local
MSG
