#!/usr/bin/env bash
# The seed's recipe side by side (issue 14): transformers' Trainer (scripts/parity/seed-recipe-hf.py,
# written the way the seed describes its code) and `tokentune train --config args.json` with the
# same values (lr 1.5e-5, batch 16, eval batch 16, 20 epochs, Adam 0.9/0.999/1e-8, evaluate every
# 10 steps, ./results), both starting from ONE random-init BERT folder saved by transformers'
# save_pretrained (no pretrained weights exist offline) with the bert-base-cased vocabulary, on a
# small WNUT-17 slice. Each side has its own data order and dropout masks, so the figures agree
# only statistically. Prints both final metric sets and the eval_loss curves. Not CI (needs
# ../shared and transformers). From the repo root, after `npx tsc -p .`:
#
#   TOKENTUNE_HF_PYTHON=$(bash ../shared/bench/hf-env.sh) bash scripts/parity/seed-recipe-side-by-side.sh
#
# Sizes: TRAIN_SAMPLES (default 400 sentences: 25 steps an epoch, 500 steps), EVAL_SAMPLES (200),
# LAYERS/HIDDEN (4/256), WORK (default /tmp/tokentune-seed-recipe), THREADS (tokentune's, default
# 2), HF_THREADS (torch's, default 1: faster on a loaded 2-core machine).
set -euo pipefail
. "$(dirname "$0")/../../tools/hf-python.sh"   # PY=$TOKENTUNE_HF_PYTHON
W=${WNUT:-../shared/data/wnut17}
VOCAB=${VOCAB:-../shared/models/bert-base-cased-vocab/vocab.txt}
TRAIN_SAMPLES=${TRAIN_SAMPLES:-400}
EVAL_SAMPLES=${EVAL_SAMPLES:-200}
LAYERS=${LAYERS:-4}
HIDDEN=${HIDDEN:-256}
WORK=${WORK:-/tmp/tokentune-seed-recipe}
THREADS=${THREADS:-2}
HF_THREADS=${HF_THREADS:-1}
REPO=$(pwd)
for f in "$W/wnut17train.conll" "$W/emerging.dev.conll" "$VOCAB"; do [ -f "$f" ] || { echo "missing $f (needs ../shared)" >&2; exit 1; }; done
[ -f dist/src/cli/main.js ] || { echo "build first: npx tsc -p ." >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK/vocab" "$WORK/hf" "$WORK/tokentune"
cp "$VOCAB" "$WORK/vocab/vocab.txt"
echo '{"tokenizer_class": "BertTokenizer", "do_lower_case": false, "model_max_length": 512}' > "$WORK/vocab/tokenizer_config.json"
export HF_HOME="$WORK/hf-home" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# The slices (JSON lines, tag strings) and the one initial model both sides start from.
"$PY" - "$W" "$WORK" "$TRAIN_SAMPLES" "$EVAL_SAMPLES" "$LAYERS" "$HIDDEN" <<'EOF'
import json, sys
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification, set_seed
w, work, n_train, n_eval, layers, hidden = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])

def read_conll(path):
    sents, words, tags = [], [], []
    for line in open(path, encoding='utf-8'):
        cols = line.split()
        if not cols:  # wnut17train.conll separates sentences with a line holding one TAB
            if words: sents.append({'tokens': words, 'ner_tags': tags})
            words, tags = [], []
            continue
        words.append(cols[0]); tags.append(cols[-1])
    if words: sents.append({'tokens': words, 'ner_tags': tags})
    return sents

splits = {'train': read_conll(f'{w}/wnut17train.conll')[:n_train], 'validation': read_conll(f'{w}/emerging.dev.conll')[:n_eval]}
for name, rows in splits.items():
    with open(f'{work}/{name}.jsonl', 'w', encoding='utf-8') as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + '\n' for r in rows)
labels = sorted({t for rows in splits.values() for r in rows for t in r['ner_tags']})
tok = AutoTokenizer.from_pretrained(f'{work}/vocab')
cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=hidden // 64,
                 intermediate_size=4 * hidden, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
set_seed(0)
BertForTokenClassification(cfg).save_pretrained(f'{work}/init')
tok.save_pretrained(f'{work}/init')
print(f'{len(splits["train"])} train / {len(splits["validation"])} validation sentences, {len(labels)} labels, '
      f'BERT {layers} layers x {hidden}, vocabulary {tok.vocab_size}')
EOF

# tokentune: the recipe as a JSON config, the shared init folder as the model.
cat > "$WORK/tokentune/args.json" <<EOF
{
  "output_dir": "./results",
  "evaluation_strategy": "steps",
  "eval_steps": 10,
  "learning_rate": 1.5e-5,
  "per_device_train_batch_size": 16,
  "per_device_eval_batch_size": 16,
  "num_train_epochs": 20,
  "adam_beta1": 0.9,
  "adam_beta2": 0.999,
  "adam_epsilon": 1e-8,
  "model_name_or_path": "$WORK/init",
  "train_file": "$WORK/train.jsonl",
  "validation_file": "$WORK/validation.jsonl",
  "disable_tqdm": true
}
EOF
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s)
(cd "$WORK/tokentune" && TOKENTUNE_THREADS=$THREADS node "$REPO/bin/tokentune.js" train --config args.json > run.log 2>&1) \
  || { tail -20 "$WORK/tokentune/run.log"; exit 1; }
t1=$(date +%s)
(cd "$WORK/hf" && "$PY" "$REPO/scripts/parity/seed-recipe-hf.py" --model "$WORK/init" --train "$WORK/train.jsonl" \
  --validation "$WORK/validation.jsonl" --threads "$HF_THREADS" --tokentune-bin "$REPO/bin/tokentune.js" > run.log 2>&1) \
  || { tail -20 "$WORK/hf/run.log"; exit 1; }
t2=$(date +%s)
echo "tokentune $((t1 - t0)) s, transformers $((t2 - t1)) s, load after: $(cut -d' ' -f1-3 /proc/loadavg)"

node --input-type=module - "$WORK" <<'EOF'
import { readFileSync } from 'node:fs';
const work = process.argv[2];
const hfState = JSON.parse(readFileSync(`${work}/hf/results/trainer_state.json`, 'utf8'));
const hfFinal = JSON.parse(readFileSync(`${work}/hf/results/eval_results.json`, 'utf8'));
const ttLog = readFileSync(`${work}/tokentune/results/log.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const ttEvals = ttLog.filter((r) => typeof r.eval_loss === 'number');
const ttFinal = JSON.parse(readFileSync(`${work}/tokentune/results/eval_results.json`, 'utf8'));
const row = (k, a, b) => console.log(`${k.padEnd(16)} ${String(a.toFixed(4)).padStart(12)} ${String(b.toFixed(4)).padStart(12)}`);
console.log(`\n${'final'.padEnd(16)} ${'transformers'.padStart(12)} ${'tokentune'.padStart(12)}`);
for (const k of ['eval_precision', 'eval_recall', 'eval_f1', 'eval_accuracy', 'eval_loss']) row(k, hfFinal[k], ttFinal[k]);
const hfEvals = hfState.log_history.filter((r) => typeof r.eval_loss === 'number');
const at = (evals, s) => evals.find((r) => (r.step ?? r.global_step) === s);
console.log(`\n${'step eval_loss'.padEnd(16)} ${'transformers'.padStart(12)} ${'tokentune'.padStart(12)}`);
const shown = new Set(); // trainer.evaluate() after training logs the last step a second time
for (const r of hfEvals) {
  if ((r.step % 50 !== 0 && r.step !== 10) || shown.has(r.step)) continue;
  shown.add(r.step);
  const o = at(ttEvals, r.step);
  if (o) row(String(r.step), r.eval_loss, o.eval_loss);
}
EOF
