#!/usr/bin/env bash
# Full-size parity run of the tokenizer.json engine against Python `tokenizers` (not part of CI):
# trains each tokenizer type on WNUT-17 + CoNLL-2003 (../shared) + multilingual text, writes the
# Python outputs for 10,000 real sentences and 50,000 random Unicode strings (raw and pre-split)
# to $OUT (default /tmp/tok-parity), then compares tokentune's outputs and prints mismatch counts.
# Usage: bash scripts/parity/tokenizer-parity.sh   (after npm run build; PYTHON=/path/to/python with tokenizers, transformers, sentencepiece)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/tok-parity}
PYTHON=${PYTHON:-${TOKENTUNE_HF_PYTHON:-/tmp/hfenv/bin/python}}
mkdir -p "$OUT"
"$PYTHON" scripts/fixtures/make-tokenizer-fixtures.py --big "$OUT"
node scripts/parity/tokenizer-parity-check.mjs "$OUT"/*.json.gz
