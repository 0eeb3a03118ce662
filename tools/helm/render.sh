#!/usr/bin/env bash
# Lints and renders helm/seqcast with the real Helm engine (helm-java from Maven Central; no helm
# binary needed) for the default values, every helm/seqcast/ci/<set>-values.yaml and every
# tools/helm/extra-sets/<set>-values.yaml (sets that change what is deployed, e.g. a service added the
# way the generator adds it), and proves that each tools/helm/invalid-values/*.yaml is rejected. Output: tmp/helm-rendered/<set>.yaml and
# summary.json, read by the jest invariants in tools/deploy-checks.
#
# The jars are cached per pom checksum under ~/.cache/seqcast (like tools/kafka/kafka.sh), so only
# the first run needs Maven.
#
# Environment: SEQCAST_CACHE_DIR (~/.cache/seqcast), HELM_RENDER_OUT (<repo>/tmp/helm-rendered)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_root=${SEQCAST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/seqcast}
out=${HELM_RENDER_OUT:-$repo/tmp/helm-rendered}

die() { echo "render.sh: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH. $2"; }

jar_dir() {
  local sum
  sum=$(sha256sum "$here/pom.xml" | cut -c1-12)
  echo "$cache_root/helm-java-jars-$sum"
}

fetch_jars() {
  local dir
  dir=$(jar_dir)
  [ -f "$dir/.complete" ] && return 0
  need mvn "Install Apache Maven (e.g. 'apt-get install maven'); it fetches helm-java from Maven Central."
  echo "render.sh: fetching helm-java from Maven Central into $dir (first run only)"
  mkdir -p "$cache_root"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  if ! mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$dir.tmp" >"$cache_root/helm-java-fetch.log" 2>&1; then
    tail -n 30 "$cache_root/helm-java-fetch.log" >&2
    die "Maven could not fetch helm-java (full log: $cache_root/helm-java-fetch.log)"
  fi
  touch "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

need java "Install a Java runtime >= 17 (e.g. 'apt-get install openjdk-17-jre-headless')."
jv=$(java -version 2>&1 | sed -nE 's/.*version "([0-9]+).*/\1/p' | head -1)
[ -n "$jv" ] && [ "$jv" -ge 17 ] || die "Java >= 17 is required (found: $(java -version 2>&1 | head -1))"
fetch_jars

# The source launcher compiles RenderChart.java in memory: no build step, nothing to cache.
# Paths relative to the repository keep the summary the same on every machine.
cd "$repo"
exec java -Xmx256m -cp "$(jar_dir)/*" tools/helm/RenderChart.java \
  helm/seqcast helm/seqcast/ci tools/helm/invalid-values "$out" tools/helm/extra-sets
