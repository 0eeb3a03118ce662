#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft: broker + controller in one JVM) for development and tests.
# The broker comes from Maven Central (org.apache.kafka:kafka_2.13, see pom.xml); its jars are cached
# per pom checksum under ~/.cache/seqcast so a second start, even from a fresh clone, skips Maven.
#
#   tools/kafka/kafka.sh start|stop|status|restart|logs|wipe [--brokers N]
#   tools/kafka/kafka.sh start-node|stop-node I --brokers N     (one node of a cluster)
#   tools/kafka/kafka.sh requests      (single node: request counts per API since start, over JMX)
#
# --brokers N (N > 1): a KRaft cluster of N combined broker+controller nodes (a static N-voter
# quorum) from the same jars: node I listens on KAFKA_PORT + 2(I-1), its controller on the port
# after it (9092/9093, 9094/9095, 9096/9097), data and kafka.pid under .local/kafka-cluster-<port>/
# node-I. Default replication factor min(N,3) and min.insync.replicas=2 (N >= 3), internal topics
# alike. Without --brokers (or with 1), everything is exactly the single node below.
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP (512m),
#              SEQCAST_LOCAL_DIR (<repo>/.local: data, logs, pid), SEQCAST_CACHE_DIR (~/.cache/seqcast),
#              KAFKA_START_TIMEOUT_S (90)
#
# Secured listener (single node only; for tests of TLS and SASL, the PLAINTEXT listener stays):
#   KAFKA_SASL_SSL_PORT        adds a SASL_SSL listener on 127.0.0.1:<port> (PLAIN, SCRAM-SHA-256/512)
#   KAFKA_SSL_KEYSTORE         its PKCS12 keystore (server key + certificate chain), required with it
#   KAFKA_SSL_KEYSTORE_PASSWORD
#   KAFKA_SSL_CLIENT_CA_FILE   optional PEM CA: clients must then present a certificate it signed (mTLS)
#   KAFKA_SASL_USERS           user:password[,user:password...] ([A-Za-z0-9._-]): PLAIN users, and SCRAM
#                              credentials added with the broker's own `StorageTool format --add-scram`
#                              (so they exist only in storage formatted with them: `wipe` to change)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-9092}
cport=${KAFKA_CONTROLLER_PORT:-9093}
heap=${KAFKA_HEAP:-512m}
local_dir=${SEQCAST_LOCAL_DIR:-$repo/.local}
kdir="$local_dir/kafka-$port"
cache_root=${SEQCAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/seqcast}
pidfile="$kdir/kafka.pid"
logfile="$kdir/kafka.log"
timeout_s=${KAFKA_START_TIMEOUT_S:-90}
sasl_ssl_port=${KAFKA_SASL_SSL_PORT:-}

command=${1:-}
shift || true
node_arg=
brokers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers=${2:-}; shift 2 || true ;;
    --brokers=*) brokers=${1#--brokers=}; shift ;;
    *) if [ -z "$node_arg" ]; then node_arg=$1; shift; else echo "kafka.sh: unexpected argument $1" >&2; exit 2; fi ;;
  esac
done
[[ "$brokers" =~ ^[1-9]$ ]] || { echo "kafka.sh: --brokers takes 1-9 (got '$brokers')" >&2; exit 2; }
cluster_dir="$local_dir/kafka-cluster-$port"
base_port=$port

# Points kdir/port/cport/pidfile/logfile at node $1 of the cluster.
select_node() {
  node=$1
  port=$((base_port + 2 * (node - 1)))
  cport=$((port + 1))
  kdir="$cluster_dir/node-$node"
  pidfile="$kdir/kafka.pid"
  logfile="$kdir/kafka.log"
}

die() { echo "kafka.sh: $*" >&2; exit 1; }
info() { echo "kafka.sh: $*"; }

is_running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH. $2"
}

jar_dir() {
  local sum
  sum=$(sha256sum "$here/pom.xml" | cut -c1-12)
  echo "$cache_root/kafka-jars-$sum"
}

fetch_jars() {
  local dir
  dir=$(jar_dir)
  if [ -f "$dir/.complete" ]; then return 0; fi
  need mvn "Install Apache Maven (e.g. 'apt-get install maven'); it fetches the Kafka broker from Maven Central."
  info "fetching the Kafka broker from Maven Central into $dir (first run only)"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  if ! mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir.tmp" >"$cache_root/maven-fetch.log" 2>&1; then
    tail -n 30 "$cache_root/maven-fetch.log" >&2
    die "Maven could not fetch the broker (full log: $cache_root/maven-fetch.log)"
  fi
  touch "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# user:password pairs of KAFKA_SASL_USERS, one per line, checked so they need no quoting anywhere.
sasl_users() {
  local pair
  for pair in ${KAFKA_SASL_USERS//,/ }; do
    [[ "$pair" =~ ^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+$ ]] || die "KAFKA_SASL_USERS: expected user:password pairs of [A-Za-z0-9._-] (got '$pair')"
    echo "$pair"
  done
}

# The SASL_SSL listener's settings (KAFKA_SASL_SSL_PORT); the inter-broker and controller
# listeners stay plaintext on 127.0.0.1, which is all a single local node needs.
sasl_ssl_config() {
  [ -n "${KAFKA_SSL_KEYSTORE:-}" ] && [ -r "$KAFKA_SSL_KEYSTORE" ] || die "KAFKA_SSL_KEYSTORE: a readable PKCS12 keystore is required with KAFKA_SASL_SSL_PORT"
  [ -n "${KAFKA_SSL_KEYSTORE_PASSWORD:-}" ] || die "KAFKA_SSL_KEYSTORE_PASSWORD is required with KAFKA_SASL_SSL_PORT"
  local pair plain_users=""
  for pair in $(sasl_users); do plain_users="$plain_users user_${pair%%:*}=\"${pair#*:}\""; done
  cat <<PROPS
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$KAFKA_SSL_KEYSTORE
listener.name.sasl_ssl.ssl.keystore.password=$KAFKA_SSL_KEYSTORE_PASSWORD
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
  if [ -n "${KAFKA_SSL_CLIENT_CA_FILE:-}" ]; then
    cat <<PROPS
listener.name.sasl_ssl.ssl.client.auth=required
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$KAFKA_SSL_CLIENT_CA_FILE
PROPS
  fi
}

write_config() {
  mkdir -p "$kdir/data"
  if [ "$brokers" -gt 1 ]; then write_cluster_config; return; fi
  local listeners="PLAINTEXT://127.0.0.1:$port" protocols="PLAINTEXT:PLAINTEXT"
  if [ -n "$sasl_ssl_port" ]; then
    listeners="$listeners,SASL_SSL://127.0.0.1:$sasl_ssl_port"
    protocols="$protocols,SASL_SSL:SASL_SSL"
  fi
  cat >"$kdir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols,CONTROLLER:PLAINTEXT
log.dirs=$kdir/data
num.partitions=1
auto.create.topics.enable=false
# A single node can only hold one replica of the internal topics; without these, consumers
# report "group coordinator is not available".
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  if [ -n "$sasl_ssl_port" ]; then sasl_ssl_config >>"$kdir/server.properties"; fi
}

write_cluster_config() {
  local voters="" i rf=$((brokers < 3 ? brokers : 3)) isr=$((brokers >= 3 ? 2 : 1))
  for i in $(seq 1 "$brokers"); do voters="$voters${voters:+,}$i@127.0.0.1:$((base_port + 2 * (i - 1) + 1))"; done
  cat >"$kdir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$kdir/data
num.partitions=1
auto.create.topics.enable=false
# acks=all then means "on at least two brokers": one broker may be down without refusing writes.
default.replication.factor=$rf
min.insync.replicas=$isr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
PROPS
}

java_args() {
  # An array keeps the classpath wildcard away from the shell: java must see "dir/*" itself.
  JAVA_ARGS=(-Xms128m "-Xmx$heap" -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$here/log4j2.properties" "-Dseqcast.kafka.log=$logfile"
    -cp "$(jar_dir)/*")
}

format_storage() {
  [ -f "$kdir/data/meta.properties" ] && return 0
  local cluster_id
  java_args
  if [ "$brokers" -gt 1 ]; then
    # Every node of one cluster carries the same cluster id; the static voter list needs no --standalone.
    [ -f "$cluster_dir/cluster.id" ] || java "${JAVA_ARGS[@]}" kafka.tools.StorageTool random-uuid >"$cluster_dir/cluster.id"
    cluster_id=$(cat "$cluster_dir/cluster.id")
    java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$kdir/server.properties" \
      >"$kdir/format.log" 2>&1 || { cat "$kdir/format.log" >&2; die "formatting KRaft storage of node $node failed"; }
    return 0
  fi
  cluster_id=$(java "${JAVA_ARGS[@]}" kafka.tools.StorageTool random-uuid)
  # SCRAM credentials live in the cluster metadata: written at format time, before the broker starts.
  local scram=() pair
  if [ -n "$sasl_ssl_port" ]; then
    for pair in $(sasl_users); do
      scram+=(--add-scram "SCRAM-SHA-256=[name=${pair%%:*},password=${pair#*:}]"
        --add-scram "SCRAM-SHA-512=[name=${pair%%:*},password=${pair#*:}]")
    done
  fi
  java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$kdir/server.properties" --standalone "${scram[@]}" \
    >"$kdir/format.log" 2>&1 || { cat "$kdir/format.log" >&2; die "formatting KRaft storage failed"; }
}

wait_ready() {
  local deadline=$((SECONDS + timeout_s))
  while [ $SECONDS -lt $deadline ]; do
    is_running || { tail -n 40 "$logfile" >&2 2>/dev/null; die "the broker exited during start-up (log: $logfile)"; }
    if node "$here/wait-ready.cjs" "127.0.0.1:$port" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  tail -n 40 "$logfile" >&2 2>/dev/null
  die "the broker did not answer metadata requests on 127.0.0.1:$port within ${timeout_s}s (log: $logfile)"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

preflight() {
  need java "Install a Java runtime >= 17 (e.g. 'apt-get install openjdk-17-jre-headless')."
  need node "Install Node.js >= 20."
  local jv
  jv=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)
  [ -n "$jv" ] && [ "$jv" -ge 17 ] || die "Java >= 17 is required (found: $(java -version 2>&1 | head -1))"
  mkdir -p "$cache_root"
  fetch_jars
}

# Formats (first time) and launches the current node without waiting for it.
launch() {
  port_busy "$port" && die "port $port is in use by another process; set KAFKA_PORT to a free port"
  port_busy "$cport" && die "port $cport is in use by another process; set KAFKA_CONTROLLER_PORT to a free port"
  if [ -n "$sasl_ssl_port" ]; then
    [ "$brokers" -eq 1 ] || die "KAFKA_SASL_SSL_PORT is only supported for a single node"
    port_busy "$sasl_ssl_port" && die "port $sasl_ssl_port is in use by another process; set KAFKA_SASL_SSL_PORT to a free port"
    sasl_users >/dev/null # dies here, not inside a command substitution, on a malformed pair
  fi
  write_config
  format_storage
  info "starting broker on 127.0.0.1:$port (controller $cport, data $kdir)"
  java_args
  nohup java "${JAVA_ARGS[@]}" kafka.Kafka "$kdir/server.properties" >"$kdir/stdout.log" 2>&1 &
  echo $! >"$pidfile"
}

start() {
  if is_running; then info "already running (pid $(cat "$pidfile"), 127.0.0.1:$port)"; return 0; fi
  preflight
  launch
  local t0=$SECONDS
  wait_ready
  info "ready after $((SECONDS - t0))s (pid $(cat "$pidfile"))"
}

# All nodes are launched before any is waited for: none answers until a quorum of controllers is up.
start_cluster() {
  local i t0=$SECONDS
  preflight
  mkdir -p "$cluster_dir"
  for i in $(seq 1 "$brokers"); do
    select_node "$i"
    if is_running; then info "node $i already running (pid $(cat "$pidfile"), 127.0.0.1:$port)"; else launch; fi
  done
  for i in $(seq 1 "$brokers"); do select_node "$i"; wait_ready; done
  select_node 1
  info "cluster of $brokers ready after $((SECONDS - t0))s; bootstrap $(cluster_brokers)"
}

cluster_brokers() {
  local i list=""
  for i in $(seq 1 "$brokers"); do list="$list${list:+,}127.0.0.1:$((base_port + 2 * (i - 1)))"; done
  echo "$list"
}

for_each_node() {
  local i
  for i in $(seq 1 "$brokers"); do select_node "$i"; "$@"; done
}

node_number() {
  [[ "$node_arg" =~ ^[1-9]$ ]] && [ "$node_arg" -le "$brokers" ] || die "$command needs a node number 1-$brokers (and --brokers $brokers)"
  select_node "$node_arg"
}

stop() {
  if ! is_running; then info "not running"; rm -f "$pidfile"; return 0; fi
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; info "stopped (pid $pid)"; return 0; }
    sleep 0.5
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  info "killed (pid $pid) after 30s without a clean shutdown"
}

status() {
  if is_running; then info "running (pid $(cat "$pidfile"), 127.0.0.1:$port)"; else info "not running"; return 3; fi
}

if [ "$brokers" -gt 1 ]; then
  case "$command" in
    start) start_cluster ;;
    # All at once: stopped one by one, the last nodes wait for a controller quorum that is gone.
    stop) for i in $(seq 1 "$brokers"); do select_node "$i"; stop & done; wait ;;
    restart) for i in $(seq 1 "$brokers"); do select_node "$i"; stop & done; wait; start_cluster ;;
    status) rc=0; for_each_node status || rc=3; for i in $(seq 1 "$brokers"); do select_node "$i"; is_running || rc=3; done; exit $rc ;;
    start-node) node_number; start ;;
    stop-node) node_number; stop ;;
    logs) node_arg=${node_arg:-1}; node_number; tail -n 100 "$logfile" ;;
    wipe) for i in $(seq 1 "$brokers"); do select_node "$i"; is_running && die "stop the cluster first"; done; rm -rf "$cluster_dir"; info "removed $cluster_dir" ;;
    *) echo "usage: $0 start|stop|status|restart|logs [I]|wipe|start-node I|stop-node I --brokers N" >&2; exit 2 ;;
  esac
  exit 0
fi

case "$command" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status || exit 3 ;;
  logs) tail -n "${node_arg:-100}" "$logfile" ;;
  wipe) is_running && die "stop the broker first"; rm -rf "$kdir"; info "removed $kdir" ;;
  requests) is_running || die "not running"; java "$here/BrokerRequests.java" "$(cat "$pidfile")" ;;
  *) echo "usage: $0 start|stop|status|restart|logs [N]|wipe|requests [--brokers N]" >&2; exit 2 ;;
esac
