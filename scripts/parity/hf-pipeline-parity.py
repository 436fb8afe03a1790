"""Runs transformers' own pipeline("token-classification") over sentences with each aggregation
strategy and writes what it returns, for tokentune's pipeline to be compared against.

  $TOKENTUNE_HF_PYTHON scripts/parity/hf-pipeline-parity.py MODEL_DIR DATA.conll LIMIT OUT.json

Entities are kept for every label, O included (ignore_labels=[]). DATA is a CoNLL file (token in the first column); each sentence becomes one text, its tokens
joined by single spaces. MODEL_DIR is a folder saved by tokentune (config.json, model.safetensors,
vocab.txt, tokenizer_config.json), loaded as is.
"""
import json
import sys

import transformers
from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

model_dir, data, limit, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

sentences, cur = [], []
for line in open(data, encoding='utf-8'):
    line = line.rstrip('\n')
    if not line.strip():
        if cur:
            sentences.append(' '.join(cur))
            cur = []
        continue
    if line.startswith('-DOCSTART-'):
        continue
    cur.append(line.split('\t')[0].split(' ')[0])
if cur:
    sentences.append(' '.join(cur))
sentences = sentences[:limit]

model = AutoModelForTokenClassification.from_pretrained(model_dir)
model.eval()
tok = AutoTokenizer.from_pretrained(model_dir)
results = {}
for strategy in ['none', 'simple', 'first', 'average', 'max']:
    pipe = pipeline('token-classification', model=model, tokenizer=tok, aggregation_strategy=strategy, device='cpu')
    rows = []
    for s in sentences:
        # ignore_labels=[]: every token / group, O included, so a weak model still tests all the grouping.
        ents = pipe(s, ignore_labels=[])
        rows.append([{k: (float(v) if k == 'score' else int(v) if k in ('start', 'end', 'index') else v) for k, v in e.items()} for e in ents])
    results[strategy] = rows
with open(out, 'w', encoding='utf-8') as f:
    json.dump({'transformers': transformers.__version__, 'tokenizer': type(tok).__name__, 'texts': sentences, 'results': results}, f, ensure_ascii=False, separators=(',', ':'))
    f.write('\n')
print(f'{len(sentences)} texts, {sum(len(r) for r in results["simple"])} simple entities -> {out}')
