#!/usr/bin/env bash
# Fetch the JVM jars watchlake needs from Maven Central into jvm/lib (git-ignored), one folder per classpath:
#   kafka-broker/  the local Apache Kafka broker (jvm/kafka-broker.pom.xml)
#   spark-kafka/   Spark's Kafka source and sink, added to Spark sessions (jvm/spark-connectors.pom.xml)
#   jdbc/          the PostgreSQL JDBC driver, added to Spark sessions (jvm/spark-connectors.pom.xml)
#   s3a/           Hadoop's S3A connector and the AWS SDK modules it needs, added to Spark sessions on an S3 lake
#                  outside EMR (jvm/s3a.pom.xml)
#   functions/     watchlake's own Spark SQL functions (jvm/functions/src), compiled here against PySpark's jars
# A folder is fetched again only when its pom changed: each holds a stamp with the pom's SHA-256, so a re-run
# on a complete folder fetches nothing and works offline.
# The functions jar is rebuilt only when its sources change (a stamp with their SHA-256, like the fetched folders).
# Usage: scripts/fetch-jars.sh [LIB_DIR]   (default $WATCHLAKE_JVM__LIB_DIR, else jvm/lib)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib_dir="${1:-${WATCHLAKE_JVM__LIB_DIR:-jvm/lib}}"
case "$lib_dir" in /*) ;; *) lib_dir="$repo/$lib_dir" ;; esac

command -v mvn >/dev/null || { echo "fetch-jars: Maven (mvn) is missing; install it (apt-get install -y maven)" >&2; exit 1; }

# fetch <pom> <execution id = folder name>
fetch() {
  local pom="$repo/jvm/$1" folder="$lib_dir/$2" stamp hash
  stamp="$folder/.fetched"
  hash="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]] && compgen -G "$folder/*.jar" >/dev/null; then
    echo "fetch-jars: $2 is up to date ($(ls "$folder"/*.jar | wc -l) jars in $folder)"
    return
  fi
  echo "fetch-jars: fetching $2 from $1 into $folder"
  rm -rf "$folder"
  mkdir -p "$folder"
  # Debian's Maven 3.8 prints colour resets even in batch mode; strip them (pipefail keeps Maven's exit status).
  mvn -B -q -Dstyle.color=never -f "$pom" "-Dlib.dir=$lib_dir" "dependency:copy-dependencies@$2" 2>&1 |
    sed -u 's/\x1b\[[0-9;]*m//g'
  compgen -G "$folder/*.jar" >/dev/null || { echo "fetch-jars: Maven copied no jars into $folder" >&2; exit 1; }
  echo "$hash" >"$stamp"
  echo "fetch-jars: $2: $(ls "$folder"/*.jar | wc -l) jars"
}

fetch kafka-broker.pom.xml kafka-broker
fetch spark-connectors.pom.xml spark-kafka
fetch spark-connectors.pom.xml jdbc
fetch s3a.pom.xml s3a

# build_functions: compile jvm/functions/src with javac against the installed PySpark's jars (the same Spark and
# jackson-core the sessions run), into functions/watchlake-functions.jar.
build_functions() {
  local sources="$repo/jvm/functions/src" folder="$lib_dir/functions" python hash jars build
  python="${WATCHLAKE_PYTHON:-$repo/.venv/bin/python}"
  command -v javac >/dev/null || { echo "fetch-jars: javac is missing; install a JDK (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
  [[ -x "$python" ]] || { echo "fetch-jars: no Python with PySpark at $python; run scripts/setup.sh" >&2; exit 1; }
  hash="$(find "$sources" -name '*.java' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
  if [[ -f "$folder/.built" && "$(cat "$folder/.built")" == "$hash" && -f "$folder/watchlake-functions.jar" ]]; then
    echo "fetch-jars: functions are up to date ($folder/watchlake-functions.jar)"
    return
  fi
  jars="$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' RETURN
  find "$sources" -name '*.java' -print0 | xargs -0 javac --release 17 -nowarn -cp "$jars/*" -d "$build"
  rm -rf "$folder"
  mkdir -p "$folder"
  jar cf "$folder/watchlake-functions.jar" -C "$build" .
  echo "$hash" >"$folder/.built"
  echo "fetch-jars: built $folder/watchlake-functions.jar"
}

build_functions
