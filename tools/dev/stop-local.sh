#!/usr/bin/env bash
# Stops what start-local.sh started: the web console server, every service in services.json
# (SIGTERM, then SIGKILL after 20 s) and Kafka.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"
mapfile -t services < <(node tools/dev/services.cjs)
for name in web-console "${services[@]%% *}"; do
  pidfile=".local/pids/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
bash tools/kafka/kafka.sh stop
