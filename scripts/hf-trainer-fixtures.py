"""Fixtures made by transformers itself for tokentune's Trainer tests (test/fixtures/hf-trainer/).

- training_args_to_dict.json: TrainingArguments(output_dir='out').to_dict(), a full transformers 5
  settings dump that `tokentune train --config` must accept.
- lr_schedules.json: the learning rate at every step of transformers' own schedulers (get_scheduler)
  for warmup + linear / cosine / constant_with_warmup / constant, with integer and ratio warmup.
- log-history/: what Trainer.state.log_history holds after real Trainer runs (a tiny random BERT,
  dropout off, 4 labelled sequences, one optimizer step per epoch so that data order cannot
  matter): the initial weights (model/) and runs.json: the sequences and, per run, its arguments
  and log_history. Checks which learning rate the Trainer logs at a step (the one
  that step used) and what an epoch-strategy entry holds.

Run: /tmp/hfenv/bin/python scripts/hf-trainer-fixtures.py   (needs transformers 5 and torch)
"""
import json
import math
import os
import shutil

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

# --- log-history/: Trainer.state.log_history of short real runs -------------------------------
from transformers import BertConfig, BertForTokenClassification, Trainer, set_seed

torch.set_num_threads(1)
LOG_DIR = os.path.join(OUT, 'log-history')
LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
set_seed(3)
cfg = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                 max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                 id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
init = BertForTokenClassification(cfg)
init.save_pretrained(os.path.join(LOG_DIR, 'model'))
g = torch.Generator().manual_seed(5)
data = []
for n in [7, 5, 9, 6]:  # unequal lengths: the collator pads
    ids = [2] + torch.randint(5, 40, (n - 2,), generator=g).tolist() + [3]
    labels = [-100] + torch.randint(0, len(LABELS), (n - 2,), generator=g).tolist() + [-100]
    data.append({'input_ids': ids, 'attention_mask': [1] * n, 'token_type_ids': [0] * n, 'labels': labels})



def pad_batch(items):
    """DataCollatorForTokenClassification's padding (right side, pad id 0, labels -100) without a tokenizer."""
    width = max(len(x['input_ids']) for x in items)
    fill = {'input_ids': 0, 'attention_mask': 0, 'token_type_ids': 0, 'labels': -100}
    return {k: torch.tensor([x[k] + [v] * (width - len(x[k])) for x in items]) for k, v in fill.items()}


runs = [
    # Steps strategy, warmup then linear decay: the first entry (logging_first_step) logs 0.0.
    {'logging_strategy': 'steps', 'logging_steps': 3, 'logging_first_step': True, 'num_train_epochs': 10,
     'per_device_train_batch_size': 4, 'gradient_accumulation_steps': 1, 'warmup_steps': 4, 'lr_scheduler_type': 'linear'},
    # Epoch strategy, cosine, a ratio warmup. (No gradient accumulation: transformers 5.18 sums the
    # micro-batch MEAN losses of BertForTokenClassification, which ignores num_items_in_batch, so its
    # logged loss and gradient are gradient_accumulation_steps times tokentune's token mean.)
    {'logging_strategy': 'epoch', 'logging_steps': 500, 'logging_first_step': False, 'num_train_epochs': 5,
     'per_device_train_batch_size': 4, 'gradient_accumulation_steps': 1, 'warmup_steps': 0.2, 'lr_scheduler_type': 'cosine'},
]
for run in runs:
    model = BertForTokenClassification.from_pretrained(os.path.join(LOG_DIR, 'model'))
    args = TrainingArguments(output_dir=os.path.join(LOG_DIR, 'tmp'), learning_rate=5e-3, weight_decay=0.01, max_grad_norm=1.0,
                             seed=42, save_strategy='no', eval_strategy='no', report_to=[], use_cpu=True,
                             disable_tqdm=True, dataloader_num_workers=0, **run)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=pad_batch)
    trainer.train()
    run['log_history'] = trainer.state.log_history
shutil.rmtree(os.path.join(LOG_DIR, 'tmp'), ignore_errors=True)
with open(os.path.join(LOG_DIR, 'runs.json'), 'w') as f:
    json.dump({'transformers': transformers.__version__, 'torch': torch.__version__, 'learning_rate': 5e-3, 'weight_decay': 0.01,
               'max_grad_norm': 1.0, 'data': data, 'runs': runs}, f, indent=1)
    f.write('\n')
print('wrote', OUT)
