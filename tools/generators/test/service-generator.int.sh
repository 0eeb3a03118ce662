#!/usr/bin/env bash
# The service generator, end to end: in a throw-away copy of this workspace, run
# `npx nx g @seqcast/tools:service`, then lint, type-check, unit-test and build the new service, start
# it against the real Kafka and PostgreSQL until its /readyz answers 200 on both ports, stop it with
# SIGTERM, and check that the compose file and the Dockerfile pick it up (tools/deploy-checks); then
# render the Helm chart with the new service (a `services:` entry) and run every
# deploy-check on it.
#
# The copy: `git ls-files` (tracked and untracked-not-ignored files, so uncommitted work is tested),
# node_modules hard-linked (`cp -al`: same filesystem, ~1 s for ~50k files, no download; never a
# symlink, which Node and Nx would resolve back into this workspace).
#
# Environment: KAFKA_BROKERS (127.0.0.1:9092), SEQCAST_TEST_PG_URL (postgres://postgres@127.0.0.1:5432/postgres),
#              GENERATOR_CHECK_PORT / GENERATOR_CHECK_MANAGEMENT_PORT (default: free ports),
#              GENERATOR_CHECK_KEEP=1 to keep the copy for inspection.
# Last line: `service-generator: N passed, M failed`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
name=generated-check
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

log() { echo "service-generator: $*"; }
fail() { echo "service-generator: FAILED: $*" >&2; echo "service-generator: 0 passed, 1 failed"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/seqcast-generator-check.XXXXXX")
pid=''
DB_NAME='' RUN_ID=''
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  if [ -n "$DB_NAME" ]; then
    (cd "$repo" && node tools/container/resources.cjs drop "$DB_NAME" "$RUN_ID") >/dev/null 2>&1 || echo "service-generator: could not drop $DB_NAME" >&2
  fi
  if [ "${GENERATOR_CHECK_KEEP:-}" = 1 ]; then echo "service-generator: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

started=$SECONDS
log "copying the workspace to $work"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$work"
cp -al "$repo/node_modules" "$work/node_modules" 2>/dev/null || cp -a --reflink=auto "$repo/node_modules" "$work/node_modules"
log "copy ready after $((SECONDS - started)) s"
cd "$work"

step() {
  local what=$1; shift
  log "$what"
  "$@" >"$work/step.log" 2>&1 || { tail -n 40 "$work/step.log" >&2; fail "$what"; }
}

step "nx g @seqcast/tools:service $name" npx nx g @seqcast/tools:service "$name" --description="throw-away service of the generator check" --no-interactive
step "lint, typecheck, test and build $name (and the libs it touched)" \
  npx nx run-many -t lint typecheck test build -p "$name" config service-manifest --outputStyle=static
step "deploy-checks: compose and Dockerfile pick $name up" \
  npx jest -c tools/deploy-checks/jest.config.cjs tools/deploy-checks/src/compose-and-image.spec.ts

# The new service as a real process against the real broker and a throw-away database.
resources=$(cd "$repo" && node tools/container/resources.cjs create) || fail "could not create a throw-away database"
eval "$resources"
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }
http_status() {
  node -e 'const out=(v)=>process.stdout.write(String(v));fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>out(r.status),()=>out("000"))' "$1"
}
port=${GENERATOR_CHECK_PORT:-$(free_port)}
management=${GENERATOR_CHECK_MANAGEMENT_PORT:-$(free_port)}
log "starting dist/apps/$name/main.js on :$port (management :$management), database $DB_NAME"
env PORT="$port" MANAGEMENT_PORT="$management" HOST=127.0.0.1 NODE_ENV=test DATABASE_URL="$DATABASE_URL" \
  node "dist/apps/$name/main.js" >"$work/$name.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
until [ "$(http_status "http://127.0.0.1:$management/readyz")" = 200 ]; do
  kill -0 "$pid" 2>/dev/null || { tail -n 30 "$work/$name.log" >&2; fail "$name exited during start-up"; }
  [ $SECONDS -lt $deadline ] || { tail -n 30 "$work/$name.log" >&2; fail "$name: /readyz not 200 within 60 s"; }
  sleep 0.2
done
[ "$(http_status "http://127.0.0.1:$port/readyz")" = 200 ] || fail "$name: /readyz on the public port is not 200"
[ "$(http_status "http://127.0.0.1:$management/metrics")" = 200 ] || fail "$name: /metrics is not 200"
log "$name: /readyz 200 (public and management ports), /metrics 200"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=''
# 143: ended by SIGTERM, re-raised by Nest's shutdown hooks once the app has closed.
[ "$code" = 0 ] || [ "$code" = 143 ] || { tail -n 20 "$work/$name.log" >&2; fail "$name exited with $code after SIGTERM"; }
log "$name: exited ($code) after SIGTERM"

step "Helm: render the chart with $name and run every deploy-check" npx nx run deploy-checks:test --outputStyle=static
grep -q "$name" tmp/helm-rendered/defaults.yaml || fail "the rendered chart has no $name"
log "the chart renders $name and passes the deploy-checks"
log "done in $((SECONDS - started)) s"
echo "service-generator: 1 passed, 0 failed"
