#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) and reports.
# Usage: bash fuzz/run.sh [SECONDS]
# Needs cargo-fuzz (cargo install cargo-fuzz); the stable toolchain is used with
# RUSTC_BOOTSTRAP=1 for the sanitizer flags cargo-fuzz passes.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
export RUSTC_BOOTSTRAP=1
status=0
for target in fuzz_export fuzz_query fuzz_map fuzz_index; do
  mkdir -p "fuzz/corpus/$target"
  if [ "$target" = fuzz_export ]; then cp tests/fixtures/frameworks/*.json tests/fixtures/hostile/*.json "fuzz/corpus/$target/" 2>/dev/null; fi
  echo "== $target for ${secs}s"
  if cargo fuzz run "$target" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 > "fuzz/$target.log" 2>&1; then
    grep -E "^Done|stat::number_of_executed_units" "fuzz/$target.log" | tail -2
    echo "$target: clean"
  else
    status=1
    tail -30 "fuzz/$target.log"
    echo "$target: FOUND A CRASH (artifact under fuzz/artifacts/$target/)"
  fi
done
exit $status
