#!/usr/bin/env bash
# Bounded load run against `skillmap serve` on loopback: wrk with 2 threads and 32 connections
# for DURATION seconds (default 15) per endpoint, server and load sharing the machine's cores.
# Usage: bash benches/load.sh [DURATION]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
idx=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$idx"' EXIT
target/release/skillmap index data --index "$idx" --quiet 2>/dev/null
target/release/skillmap serve --index "$idx" --addr 127.0.0.1:0 2> "$idx/serve.log" &
pid=$!
for _ in $(seq 50); do grep -q listening "$idx/serve.log" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^skillmap: listening on //p' "$idx/serve.log")
echo "server: $base (pid $pid); $(nproc) cores; $(date -u +%F)"
# Rotate through skill queries so that no single cached answer is measured.
cat > "$idx/queries.lua" <<'LUA'
local queries = {"inspect%20cargo", "risk%20assessment", "forklift", "patient%20care", "budget",
  "customer%20service", "quality%20control", "train%20staff", "welding%20equipment",
  "safety%20procedures", "supervise", "financial%20records", "legal%20documents", "teach%20students"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/search?limit=10&q=" .. queries[(i % #queries) + 1])
end
LUA
echo "== GET /api/search (top 10, rotating queries)"
wrk -t2 -c32 -d"${duration}s" --latency -s "$idx/queries.lua" "$base" | grep -E "Requests/sec|Latency|50%|99%|requests in|Non-2xx"
echo "== GET /healthz"
wrk -t2 -c32 -d"${duration}s" --latency "$base/healthz" | grep -E "Requests/sec|99%|Non-2xx"
