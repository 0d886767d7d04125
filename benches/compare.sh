#!/usr/bin/env bash
# Side-by-side comparison (see benches/compare.py): bash benches/compare.sh [--exports N] ...
set -euo pipefail
exec python3 "$(dirname "$0")/compare.py" "$@"
