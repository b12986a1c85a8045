#!/usr/bin/env bash
# Installs, idempotently, the real servers the tests talk to over loopback, into a tools folder
# outside the clone (default ~/.cache/lake-tools). The tests start and stop them themselves.
#   s3s-fs 0.14.1    S3 protocol over a folder (0.17 needs a newer rustc)
#   FerretDB 1.24.2  MongoDB wire protocol over SQLite (built from the Go module proxy's source:
#                    `go install` leaves out the version file the binary needs at start)
#   Kafka 4.1.1      the broker's jars and their dependencies from Maven Central
#                    (scripts/kafka/pom.xml); the tests run it in KRaft mode with `java`
# and the client the JDBC test drives the Flight SQL server with:
#   Arrow Flight SQL JDBC driver 18.3.0  one jar from Maven Central (checksum checked by Maven)
# and, from Debian's packages when missing, what the test across hosts (cli/tests/hosts.rs) runs
# inside its network namespaces: iproute2 (`ip netns`) and curl.
set -euo pipefail

TOOLS="${LAKE_TOOLS_DIR:-$HOME/.cache/lake-tools}"
mkdir -p "$TOOLS"

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if (( ${#missing[@]} > 0 )); then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "missing ${missing[*]}: install with 'sudo apt-get install ${missing[*]}'" >&2
    exit 1
  fi
  echo "installing Debian's ${missing[*]}…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x "$TOOLS/bin/s3s-fs" ]]; then
  echo "installing s3s-fs 0.14.1 into $TOOLS (about 2 minutes, once)…"
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$TOOLS" --quiet
fi
FERRETDB_VERSION=v1.24.2
if ! "$TOOLS/bin/ferretdb" --version 2>/dev/null | grep -q "$FERRETDB_VERSION"; then
  echo "building FerretDB $FERRETDB_VERSION into $TOOLS (a few minutes, once)…"
  module="$(cd /tmp && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$module" ]] || { echo "cannot download FerretDB $FERRETDB_VERSION" >&2; exit 1; }
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  cp -r "$module/." "$build/"
  chmod -R u+w "$build"
  echo "$FERRETDB_VERSION" > "$build/build/version/version.txt"
  mkdir -p "$TOOLS/bin"
  (cd "$build" && GOFLAGS=-mod=mod go build -o "$TOOLS/bin/ferretdb" ./cmd/ferretdb)
fi
KAFKA_VERSION=4.1.1
KAFKA_LIBS="$TOOLS/kafka-$KAFKA_VERSION/libs"
if [[ ! -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
  echo "fetching the Kafka $KAFKA_VERSION broker's jars from Maven Central into $KAFKA_LIBS…"
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  partial="$KAFKA_LIBS.partial"
  rm -rf "$partial"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$partial"
  rm -rf "$KAFKA_LIBS"
  mv "$partial" "$KAFKA_LIBS"
fi
JDBC_VERSION=18.3.0
JDBC_JAR="$TOOLS/jdbc/flight-sql-jdbc-driver-$JDBC_VERSION.jar"
if [[ ! -f "$JDBC_JAR" ]]; then
  echo "fetching the Arrow Flight SQL JDBC driver $JDBC_VERSION from Maven Central into $TOOLS/jdbc…"
  partial="$TOOLS/jdbc.partial"
  rm -rf "$partial"
  mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.apache.arrow:flight-sql-jdbc-driver:$JDBC_VERSION" \
    -DoutputDirectory="$partial" -Dmdep.useBaseVersion=true
  mkdir -p "$TOOLS/jdbc"
  mv "$partial/flight-sql-jdbc-driver-$JDBC_VERSION.jar" "$JDBC_JAR"
  rm -rf "$partial"
fi
echo "test servers ready in $TOOLS: $(ls "$TOOLS/bin" | tr '\n' ' ')"
