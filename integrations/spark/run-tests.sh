#!/usr/bin/env bash
# Tests of the Spark job (integrations/spark/test_map_postings.py) in local mode: sets up what
# they need — Java 17+ (Debian's openjdk-17-jre-headless when missing) and pyspark in a virtual
# environment under target/ — and the release binary, then runs them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"

if ! command -v java > /dev/null; then
    sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
    $sudo_ apt-get update -qq
    $sudo_ apt-get install -y -qq openjdk-17-jre-headless
fi
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target/spark-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r integrations/spark/requirements.txt
cargo build --release --quiet
export SKILLMAP_BIN="$target/release/skillmap"
export SPARK_LOCAL_IP=127.0.0.1
cd integrations/spark
"$venv/bin/python" -m unittest -v test_map_postings
