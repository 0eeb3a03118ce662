#!/usr/bin/env bash
# PostgreSQL rows/s ceiling of Seqcast's history write path, without Kafka or Node in the way:
# pgbench runs the ordering worker's batch shape (one multi-row INSERT into seqcast_messages with
# the same table and indexes, plus the partition-position UPDATE, per transaction) from CLIENTS
# connections for SECONDS, on a throw-away database that is dropped afterwards.
#   bash tools/bench/sql/history-ceiling.sh [rows-per-batch=100] [clients=4] [seconds=15]
set -euo pipefail
rows=${1:-100}; clients=${2:-4}; seconds=${3:-15}
server=${SEQCAST_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="seqcast_bench_pg_$RANDOM$RANDOM"
url="${server%/*}/$db"
here=$(cd "$(dirname "$0")" && pwd)
psql -q "$server" -c "CREATE DATABASE $db"
trap 'psql -q "$server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -q "$url" -f "$here/history-schema.sql"
script=$(mktemp)
sed "s/:rows/$rows/g" "$here/history-batch.pgbench" > "$script"
pgbench -n -c "$clients" -j 2 -T "$seconds" -f "$script" "$url" | tee /dev/stderr | awk -v rows="$rows" '
  /^tps = / { printf "history-ceiling: %d rows/s (%.1f batches/s of %d rows)\n", $3 * rows, $3, rows }'
rm -f "$script"
