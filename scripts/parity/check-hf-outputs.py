"""Checks a tokentune output folder with transformers itself: trainer_state.json (and each
checkpoint's) loads with TrainerState.load_from_json, the model card parses as a model card, and
the folder loads as AutoModelForTokenClassification + AutoTokenizer.

Run: $TOKENTUNE_HF_PYTHON scripts/parity/check-hf-outputs.py OUTPUT_DIR
"""
import glob
import json
import os
import sys

from transformers import AutoModelForTokenClassification, AutoTokenizer, TrainerState
from huggingface_hub import ModelCard

out = sys.argv[1]
paths = [os.path.join(out, 'trainer_state.json')] + sorted(glob.glob(os.path.join(out, 'checkpoint-*', 'trainer_state.json')))
for p in paths:
    s = TrainerState.load_from_json(p)
    print(f'{p}: TrainerState(global_step={s.global_step}, max_steps={s.max_steps}, best_metric={s.best_metric}, log_history={len(s.log_history)} records)')
card = ModelCard.load(os.path.join(out, 'README.md'))
print('model card metadata:', card.data.to_dict())
for f in ['all_results.json', 'train_results.json', 'eval_results.json', 'predict_results.json']:
    if os.path.exists(os.path.join(out, f)):
        print(f, sorted(json.load(open(os.path.join(out, f))).keys())[:6], '...')
model = AutoModelForTokenClassification.from_pretrained(out)
tok = AutoTokenizer.from_pretrained(out)
print('model:', type(model).__name__, 'labels', len(model.config.id2label), 'tokenizer max length', tok.model_max_length, 'lowercase', getattr(tok, 'do_lower_case', None))
