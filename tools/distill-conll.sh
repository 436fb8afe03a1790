#!/usr/bin/env bash
# Reproduces docs/distillation.md's table: a tokentune-trained teacher (BERT mini, 4 x 256, from
# scratch with the bert-base-cased vocabulary, 1000 steps) and 2 x 64 students (19% of its
# parameters) with the same 400-step budget, over seeds 42-44: gold labels only; distilled (KL + CE);
# distilled from a weight-selected start with hidden-state matching; the same + the text of CoNLL's
# validation split (labels stripped) or WNUT-17 as unlabelled data. Prints CoNLL-2003 test F1 and
# inference tokens/s (teacher fp32, student fp32, student int8).
#   bash tools/distill-conll.sh            (repo root, after npx tsc -p .; SHARED=../shared RUN=/tmp/distill-conll)
#   TEACHER_CONFIG=small TEACHER_LR=5e-4 STUDENT=tiny RUN=/tmp/distill-small bash tools/distill-conll.sh   (the larger teacher)
set -euo pipefail
SHARED=${SHARED:-../shared}
RUN=${RUN:-/tmp/distill-conll}
D=$SHARED/data/conll2003/iob2_token_tag
VOCAB=$SHARED/models/bert-base-cased-vocab/vocab.txt
WNUT=$SHARED/data/wnut17/wnut17train.conll
TEACHER_CONFIG=${TEACHER_CONFIG:-mini}
TEACHER_LR=${TEACHER_LR:-1e-3}
TEACHER_STEPS=${TEACHER_STEPS:-1000}
TEACHER=$RUN/teacher
STUDENT=${STUDENT:-2x64}
STUDENT_STEPS=${STUDENT_STEPS:-400}
SEEDS=${SEEDS:-42 43 44}
TT="node bin/tokentune.js"
COMMON=(--train-file "$D/train.txt" --test-file "$D/test.txt" --per-device-train-batch-size 32 --per-device-eval-batch-size 64
  --warmup-ratio 0.1 --logging-steps 50 --disable-tqdm)
KD=(--teacher "$TEACHER" --student-config "$STUDENT" --temperature 1 --alpha 0.5 --teacher-cache "$RUN/teacher-cache")
# Weight selection (student layer 1 <- teacher layer 2, 2 <- 4) and TinyBERT-style matching of the
# embeddings and both layers through learned projections.
SEL=(--student-init select --layer-map 0:0,1:2,2:4 --hidden-weight 3)
mkdir -p "$RUN"
# Unlabelled in-domain text: the validation split's tokens, its tags dropped (one column).
[ -f "$RUN/valid-text.conll" ] || cut -d' ' -f1 "$D/valid.txt" > "$RUN/valid-text.conll"

[ -f "$TEACHER/predict_results.json" ] || $TT train --config-name "$TEACHER_CONFIG" --tokenizer-name "$VOCAB" "${COMMON[@]}" --seed 42 --learning-rate "$TEACHER_LR" \
  --max-steps "$TEACHER_STEPS" --save-steps 250 --output-dir "$TEACHER"

run() { # name seed distill-args...
  local name=$1 seed=$2
  shift 2
  [ -f "$RUN/$name-s$seed/predict_results.json" ] || $TT distill "${KD[@]}" "${COMMON[@]}" --seed "$seed" --learning-rate 1e-3 --max-steps "$STUDENT_STEPS" \
    --save-strategy no --output-dir "$RUN/$name-s$seed" "$@" > "$RUN/$name-s$seed.log" 2>&1
}
for s in $SEEDS; do
  run gold "$s" --alpha 0 # CE only: exactly `tokentune train` of the same student (same F1 to the digit)
  run kd "$s"
  run sel-kd-hidden "$s" "${SEL[@]}"
  run sel-kd-hidden-valid-text "$s" "${SEL[@]}" --unlabeled-file "$RUN/valid-text.conll"
  run sel-kd-hidden-wnut "$s" "${SEL[@]}" --unlabeled-file "$WNUT"
  run sel-gold "$s" --alpha 0 --student-init select
done
first=${SEEDS%% *}
[ -d "$RUN/student-int8" ] || $TT quantize --model "$RUN/sel-kd-hidden-valid-text-s$first" --out "$RUN/student-int8"

f1() { node -e "console.log((100 * JSON.parse(require('fs').readFileSync('$1/predict_results.json')).predict_f1).toFixed(2))"; }
echo "| model | CoNLL-2003 test F1 (seeds $SEEDS) | mean |"
echo "|---|---|---|"
echo "| teacher ($TEACHER_CONFIG, $TEACHER_STEPS steps) | $(f1 "$TEACHER") | |"
for m in gold kd sel-gold sel-kd-hidden sel-kd-hidden-valid-text sel-kd-hidden-wnut; do
  scores=$(for s in $SEEDS; do f1 "$RUN/$m-s$s"; done | tr '\n' ' ')
  echo "| $m | $scores | $(echo "$scores" | awk '{ for (i = 1; i <= NF; i++) t += $i; printf "%.2f", t / NF }') |"
done
echo
uptime
BENCH_DATA="$D/test.txt" BENCH_MODELS="$TEACHER,$RUN/sel-kd-hidden-valid-text-s$first,$RUN/student-int8" node dist/bench/run.js models
