#!/usr/bin/env bash
# Full-size parity run of the tokenizer.json engine against Python `tokenizers` (not part of CI):
# trains each tokenizer type on WNUT-17 + CoNLL-2003 (../shared) + multilingual text, writes the
# Python outputs for 10,000 real sentences and 50,000 random Unicode strings (raw and pre-split)
# to $OUT (default /tmp/tok-parity), then compares tokentune's outputs and prints mismatch counts.
# Usage: bash scripts/parity/tokenizer-parity.sh   (after npm run build; TOKENTUNE_HF_PYTHON: a Python with tokenizers, transformers, sentencepiece)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/tok-parity}
. tools/hf-python.sh   # PY=$TOKENTUNE_HF_PYTHON
mkdir -p "$OUT"
"$PY" scripts/fixtures/make-tokenizer-fixtures.py --big "$OUT"
node scripts/parity/tokenizer-parity-check.mjs "$OUT"/*.json.gz
