#!/usr/bin/env bash
# Runs every test tier against a real Kafka broker and PostgreSQL: lint, type-check, unit,
# integration, end-to-end (built services as real processes), the web console in headless Chromium.
# Installs what it needs, starts the broker if it is not running (and stops it again), and ends with
# `tests: N passed, N failed`.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

require_tools
install_deps || exit 1

started_kafka=0
cleanup() { [ $started_kafka -eq 1 ] && bash tools/kafka/kafka.sh stop >/dev/null; }
trap cleanup EXIT

# Use a broker that already answers at KAFKA_BROKERS (this repo's or anyone's); otherwise start ours.
kafka_port=${KAFKA_PORT:-9092}
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:$kafka_port}
if node tools/kafka/wait-ready.cjs "${KAFKA_BROKERS%%,*}"; then
  log "using the Kafka broker at ${KAFKA_BROKERS%%,*}"
else
  log "starting Kafka"
  bash tools/kafka/kafka.sh start || exit 1
  started_kafka=1
fi
node tools/db/ensure-database.cjs >/dev/null || exit 1

out=$(mktemp -d)
failed_steps=()
step() {
  local name=$1; shift
  log "$name"
  if ! "$@" 2>&1 | tee "$out/$name.log"; then failed_steps+=("$name"); fi
}

step lint npx nx run-many -t lint --outputStyle=stream
step typecheck npx nx run-many -t typecheck --outputStyle=stream
step unit npx nx run-many -t test --outputStyle=stream
step integration npx nx run-many -t integration --parallel=1 --outputStyle=stream
# The services run on @platformatic/kafka by default; the port's own suite also proves the kafkajs
# fallback (KAFKA_CLIENT=kafkajs). Not from Nx's cache: the variable is not one of its inputs.
step integration-kafkajs env KAFKA_CLIENT=kafkajs npx nx run kafka:integration --skip-nx-cache --outputStyle=stream
step build npm run build --silent
step container-check npx nx run deploy-checks:container-check --outputStyle=stream
# `nx g @seqcast/tools:service` in a throw-away copy of the workspace: the new service builds,
# starts against the real Kafka/PostgreSQL with /readyz 200, and the deploy-checks accept it.
step service-generator bash tools/generators/test/service-generator.int.sh
step e2e npx nx run-many -t e2e --parallel=1 --outputStyle=stream
# The web console in headless Chromium (Debian's package, installed when missing).
step browser bash -c '. tools/dev/lib.sh && ensure_chromium && npx nx run web-console-e2e:browser --outputStyle=stream'
# Two fault scenarios on a stack of the suite's own (own broker and PostgreSQL, see tools/chaos);
# bounded, and it prints `chaos: N passed, M failed`.
step chaos npm run chaos --silent -- short
# Every benchmark scenario with tiny numbers (~10 s of load), output to a temp dir: the scripts keep working.
step bench-smoke npm run bench --silent -- all --smoke

# Sum Jest's "Tests: ..." summaries over every tier (Nx prefixes them with the project name;
# cached runs replay theirs).
passed=0 failed=0
while read -r line; do
  p=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line"); f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done < <(cat "$out"/unit.log "$out"/integration.log "$out"/container-check.log "$out"/service-generator.log "$out"/e2e.log "$out"/browser.log "$out"/chaos.log "$out"/bench-smoke.log 2>/dev/null |
  sed -E 's/\x1b\[[0-9;]*m//g' | grep -E '(^|: )Tests: |(^|: )container-check: [0-9]+ passed|^(chaos|bench-smoke|service-generator): [0-9]+ passed')

if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  [ "$failed" -eq 0 ] && failed=${#failed_steps[@]}
fi
echo "tests: $passed passed, $failed failed"
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
