#!/usr/bin/env bash
# Container-equivalent check: what docker/Dockerfile does to a service, without Docker.
#
# For each service: build it (nx), copy dist/apps/<service> into a temporary directory outside the
# repository, install its production dependencies there with the same script the image uses
# (install-runtime-deps.sh: the generated package.json + the workspace lockfile, npm --omit=dev),
# then start `node --env-file-if-exists=node.env main.js` (node.env from tools/container/node-env.cjs)
# from that directory alone, as the image's CMD does: a clean
# environment, no access to the workspace's node_modules. It must answer GET /healthz with 200
# and exit after SIGTERM. A crash names the missing module: the classic "works in the repo,
# dies in the image" bug of a dependency loaded with a computed require().
#
# Uses the real broker (KAFKA_BROKERS, default 127.0.0.1:9092) and PostgreSQL (SEQCAST_TEST_PG_URL,
# default postgres://postgres@127.0.0.1:5432/postgres) with a throw-away database
# (seqcast_container_check_*) and topics (container-check.*), removed afterwards.
#
# Environment: CONTAINER_CHECK_SERVICES (default: every service in services.json),
#              CONTAINER_CHECK_START_TIMEOUT_S (90), CONTAINER_CHECK_STOP_TIMEOUT_S (30),
#              CONTAINER_CHECK_SKIP_BUILD=1 to use dist/ as it is.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# services.json lists the services (tools/dev/services.cjs prints `name port managementPort kind`).
all_services=$(node "$repo/tools/dev/services.cjs" | cut -d' ' -f1 | tr '\n' ' ')
services=(${CONTAINER_CHECK_SERVICES:-$all_services})
start_timeout_s=${CONTAINER_CHECK_START_TIMEOUT_S:-90}
stop_timeout_s=${CONTAINER_CHECK_STOP_TIMEOUT_S:-30}
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

log() { echo "container-check: $*"; }
die() { echo "container-check: $*" >&2; exit 1; }

for s in "${services[@]}"; do
  node "$repo/tools/dev/services.cjs" "$s" || die "unknown service '$s' (not in services.json: $all_services)"
done

# The services must not find any node_modules outside their own directory: Node looks in every
# ancestor directory and in $HOME/.node_modules, $HOME/.node_libraries and NODE_PATH.
work=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-container-check.XXXXXX")
case "$work" in "$repo"/*) die "temporary directory $work is inside the repository" ;; esac
d=$(dirname "$work")
while :; do
  [ -e "$d/node_modules" ] && die "$d/node_modules exists: a service started under $work could load packages from it; set TMPDIR elsewhere"
  [ "$d" = / ] && break
  d=$(dirname "$d")
done

pids=()
RUN_ID=''
DB_NAME=''
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$DB_NAME" ]; then
    (cd "$repo" && node tools/container/resources.cjs drop "$DB_NAME" "$RUN_ID") || echo "container-check: could not remove $DB_NAME and the run's topics" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ "${CONTAINER_CHECK_SKIP_BUILD:-}" != 1 ]; then
  log "building ${services[*]}"
  (cd "$repo" && npx nx run-many -t build -p "${services[@]}" --outputStyle=static) >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; die "nx build failed"; }
fi

for s in "${services[@]}"; do
  [ -f "$repo/dist/apps/$s/main.js" ] && [ -f "$repo/dist/apps/$s/package.json" ] ||
    die "dist/apps/$s is incomplete: build it first (npm run build)"
  log "$s: installing production dependencies into $work/$s"
  cp -R "$repo/dist/apps/$s" "$work/$s"
  node "$here/node-env.cjs" "$s" "$work/$s/node.env"
  if ! sh "$here/install-runtime-deps.sh" "$work/$s" "$repo/package-lock.json" >"$work/$s.install.log" 2>&1; then
    cat "$work/$s.install.log" >&2
    die "$s: installing its production dependencies failed"
  fi
  tail -n 1 "$work/$s.install.log"
done

resources=$(cd "$repo" && node tools/container/resources.cjs create) || die "could not create the throw-away database"
eval "$resources"
log "database $DB_NAME, topics container-check.$RUN_ID.*"

# stdout.write, not console.log: under FORCE_COLOR (set by Nx) console.log colours numbers.
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }

# Prints the HTTP status of GET url, or 000 if nothing answers.
http_status() {
  node -e 'const out=(v)=>process.stdout.write(String(v));fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>out(r.status),()=>out("000"))' "$1"
}

explain_crash() {
  local s=$1 logfile=$2 missing
  missing=$(grep -oE "Cannot find module '[^']+'" "$logfile" | head -n 1 | sed -E "s/Cannot find module '([^']+)'/\1/" || true)
  # Nest reports packages it loads on demand in its own words.
  [ -z "$missing" ] && missing=$(grep -oE 'The "[^"]+" package is missing|install the "[^"]+" package' "$logfile" | head -n 1 | sed -E 's/.*"([^"]+)".*/\1/' || true)
  echo "----- $s output (last 30 lines) -----" >&2
  tail -n 30 "$logfile" >&2
  echo "-----" >&2
  if [ -n "$missing" ]; then
    die "$s crashed at start-up: module '$missing' is not installed in its image. Add it to the generated dist/apps/$s/package.json (tools/build/webpack.app.cjs: RUNTIME_DEPENDENCIES lists packages loaded with a computed require())."
  fi
  die "$s exited during start-up (output above)"
}

passed=0
failed=0
for s in "${services[@]}"; do
  port=$(free_port)
  logfile="$work/$s.log"
  # As in the image: NODE_ENV=production, the service's directory as cwd, nothing inherited but PATH.
  (cd "$work/$s" && exec env -i PATH="$PATH" HOME="$work" NODE_ENV=production LOG_LEVEL=log \
    PORT="$port" HOST=127.0.0.1 \
    KAFKA_BROKERS="$KAFKA_BROKERS" SEQCAST_MESSAGES_TOPIC="$MESSAGES_TOPIC" SEQCAST_EVENTS_TOPIC="$EVENTS_TOPIC" \
    SEQCAST_PARTITIONS=2 DATABASE_URL="$DATABASE_URL" SEQCAST_JWT_SECRET="container-check-$RUN_ID-0123456789abcdef0123456789" \
    WORKER_GROUP_ID="$WORKER_GROUP" GATEWAY_INSTANCE_ID="$GATEWAY_INSTANCE" \
    node --env-file-if-exists=node.env main.js) >"$logfile" 2>&1 &
  pid=$!
  pids+=("$pid")
  started=$SECONDS
  status=000
  while [ $((SECONDS - started)) -lt "$start_timeout_s" ]; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; explain_crash "$s" "$logfile"; }
    status=$(http_status "http://127.0.0.1:$port/healthz")
    [ "$status" = 200 ] && break
    sleep 0.5
  done
  if [ "$status" != 200 ]; then
    tail -n 30 "$logfile" >&2
    die "$s: GET /healthz did not answer 200 within ${start_timeout_s}s (last status: $status)"
  fi
  healthy_after=$((SECONDS - started))
  ready=$(http_status "http://127.0.0.1:$port/readyz")

  kill -TERM "$pid"
  stopped=''
  for _ in $(seq 1 $((stop_timeout_s * 2))); do
    if ! kill -0 "$pid" 2>/dev/null; then stopped=yes; break; fi
    sleep 0.5
  done
  code=0
  if [ -z "$stopped" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "$s: FAILED: still running ${stop_timeout_s}s after SIGTERM (an orchestrator would SIGKILL it mid-shutdown)"
    failed=$((failed + 1))
    continue
  fi
  wait "$pid" || code=$?
  # 143 = ended by SIGTERM: Nest's shutdown hooks re-raise the signal once the app has closed.
  if [ "$code" -ne 0 ] && [ "$code" -ne 143 ]; then
    tail -n 20 "$logfile" >&2
    log "$s: FAILED: exited with code $code after SIGTERM"
    failed=$((failed + 1))
    continue
  fi
  log "$s: ok: /healthz 200 after ${healthy_after}s (/readyz $ready), exited ($code) within ${stop_timeout_s}s of SIGTERM"
  passed=$((passed + 1))
done

echo "container-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
