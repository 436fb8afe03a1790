"""Fixtures made by transformers itself for tokentune's Trainer tests (test/fixtures/hf-trainer/).

- training_args_to_dict.json: TrainingArguments(output_dir='out').to_dict(), a full transformers 5
  settings dump that `tokentune train --config` must accept.
- lr_schedules.json: the learning rate at every step of transformers' own schedulers (get_scheduler)
  for warmup + linear / cosine / constant_with_warmup / constant, with integer and ratio warmup.

Run: /tmp/hfenv/bin/python scripts/hf-trainer-fixtures.py   (needs transformers 5 and torch)
"""
import json
import math
import os

import torch
import transformers
from transformers import TrainingArguments, get_scheduler

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'hf-trainer')
os.makedirs(OUT, exist_ok=True)

d = TrainingArguments(output_dir='out').to_dict()
with open(os.path.join(OUT, 'training_args_to_dict.json'), 'w') as f:
    json.dump(d, f, indent=2, default=str)
    f.write('\n')

cases = []
for sched in ['linear', 'cosine', 'constant_with_warmup', 'constant']:
    for total, warmup in [(200, 20), (37, 0.1), (10, 0)]:
        args = TrainingArguments(output_dir='out', warmup_steps=warmup, max_steps=total, learning_rate=3e-4, lr_scheduler_type=sched)
        w = args.get_warmup_steps(total)
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([p], lr=args.learning_rate)
        s = get_scheduler(sched, opt, num_warmup_steps=w, num_training_steps=total)
        lrs = []
        for _ in range(total):
            lrs.append(s.get_last_lr()[0])  # the rate the optimizer step uses
            opt.step()
            s.step()
        cases.append({'type': sched, 'total_steps': total, 'warmup_steps_arg': warmup, 'warmup_steps': w, 'base_lr': 3e-4, 'lr': lrs, 'after_last': s.get_last_lr()[0]})
with open(os.path.join(OUT, 'lr_schedules.json'), 'w') as f:
    json.dump({'transformers': transformers.__version__, 'torch': torch.__version__, 'cases': cases}, f)
    f.write('\n')
print('wrote', OUT)
