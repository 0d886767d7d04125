#!/usr/bin/env bash
# Throughput of the Spark job (integrations/spark/map_postings.py) in local mode with 1 and 2
# cores, against `skillmap map --batch` run directly with 1 and 2 threads, on the same postings:
# the dev postings repeated N times (default 10) with distinct ids. Needs what
# integrations/spark/run-tests.sh sets up (it is run first when the venv is missing).
# Usage: bash benches/spark.sh [N]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
n="${1:-10}"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="$target/spark-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q -r integrations/spark/requirements.txt; }
cargo build --release --quiet
bin="$target/release/skillmap"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" index data/ --index "$work/index" --quiet
python3 - "$n" "$work/postings.jsonl" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
lines = [json.loads(l) for l in open("data/eval/dev.jsonl") if l.strip()]
with open(out, "w") as f:
    for i in range(n):
        for l in lines:
            f.write(json.dumps({"id": f"{l['id']}#{i}", "text": l["text"]}) + "\n")
PY
total=$(wc -l < "$work/postings.jsonl")
export SPARK_LOCAL_IP=127.0.0.1
now() { date +%s.%N; }
report() { awk -v a="$2" -v b="$3" -v n="$total" -v what="$1" 'BEGIN { t = b - a; printf "%-34s %7.2f s  %7.0f postings/s\n", what, t, n / t }'; }
echo "$total postings; $(nproc) cores; $(date -u +%Y-%m-%d)"
for threads in 1 2; do
    a=$(now); "$bin" map --batch "$work/postings.jsonl" --index "$work/index" --threads "$threads" --quiet > "$work/direct.jsonl"; b=$(now)
    report "skillmap map --batch, $threads thread(s)" "$a" "$b"
done
for cores in 1 2; do
    a=$(now)
    "$venv/bin/python" integrations/spark/map_postings.py --master "local[$cores]" --partitions "$((cores * 2))" \
        --index "$work/index" --skillmap "$bin" --input "$work/postings.jsonl" --output "$work/out-$cores" 2> "$work/spark.log" \
        || { cat "$work/spark.log" >&2; exit 1; }
    b=$(now)
    report "Spark local[$cores] (JVM start included)" "$a" "$b"
done
