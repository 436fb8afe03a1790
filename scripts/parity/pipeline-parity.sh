#!/usr/bin/env bash
# Pipeline parity on real sentences (issue 14), for data that cannot be committed as a fixture
# (CoNLL-2003): transformers' own pipeline("token-classification") (scripts/parity/hf-pipeline-parity.py)
# and tokentune's pipeline (scripts/parity/compare-pipeline.mjs) on the first N sentences of a CoNLL file,
# with each aggregation strategy and every label kept; prints, per strategy, the texts whose entity
# count differs, the entities whose label/word/start/end/index differ and the scores off by > 1e-4.
# From the repo root, after `npx tsc -p .`:
#
#   TOKENTUNE_HF_PYTHON=$(bash ../shared/bench/hf-env.sh) bash scripts/parity/pipeline-parity.sh MODEL_DIR ../shared/data/conll2003/iob2_token_tag/test.txt 1000
#
# MODEL_DIR: a folder tokentune saved (e.g. `tokentune train ... --output-dir MODEL_DIR`).
set -euo pipefail
MODEL=${1:?usage: pipeline-parity.sh MODEL_DIR DATA.conll [N]}
DATA=${2:?usage: pipeline-parity.sh MODEL_DIR DATA.conll [N]}
N=${3:-1000}
. "$(dirname "$0")/../../tools/hf-python.sh"   # PY=$TOKENTUNE_HF_PYTHON
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
echo "model $MODEL, first $N sentences of $DATA, load $(cut -d' ' -f1-3 /proc/loadavg)"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} $PY scripts/parity/hf-pipeline-parity.py "$MODEL" "$DATA" "$N" "$OUT/hf.json" 2>&1 | grep -v -i 'warn\|Loading weights' || true
[ -s "$OUT/hf.json" ] || { echo "hf-pipeline-parity.py wrote nothing" >&2; exit 1; }
node scripts/parity/compare-pipeline.mjs "$MODEL" "$OUT/hf.json"
