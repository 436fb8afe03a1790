"""TensorBoard's own reader against tokentune's event files (issue 22), and the fixtures CI uses.

1. torch's SummaryWriter writes a list of scalars with fixed wall times
   (test/fixtures/tensorboard/torch-scalars.tfevents, inputs in scalars.json): CI writes the same
   scalars with tokentune's writer and compares the bytes of every record after file_version.
2. transformers' Trainer (report_to tensorboard) trains a tiny random BERT for 4 steps, logging
   every step, evaluating every 2 steps, then evaluates once more (do_eval): the scalar tags it
   writes go to hf-trainer-tags.json.
3. `tokentune train` runs the same schedule with --report-to tensorboard: EventAccumulator reads
   its event file; every scalar must equal the log.jsonl record it came from (as float32, same
   step), and the tag set is compared with transformers' (compare.json).

Run from the repo root after `npx tsc -p .`:  $TOKENTUNE_HF_PYTHON scripts/tensorboard-check.py
"""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'tensorboard')
os.makedirs(OUT, exist_ok=True)
tmp = tempfile.mkdtemp(prefix='tt-tb-')


def scalars_of(logdir):
    acc = EventAccumulator(logdir, size_guidance={'scalars': 0})
    acc.Reload()
    return {tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}


# 1. torch's bytes for known scalars.
SCALARS = [
    ['train/loss', 2.1875, 1, 1700000000.25], ['train/grad_norm', 1.6265, 1, 1700000000.25],
    ['train/learning_rate', 5e-05, 1, 1700000000.25], ['train/epoch', 0.25, 1, 1700000000.25],
    ['eval/f1', 0.123456789, 2, 1700000001.5], ['eval/loss', 3.0, 0, 1700000002.0],
    ['train/train_runtime', 12345.678, 123456, 1733536800.123456], ['eval/overall_f1', -0.0, 7, 0.5],
]
d = os.path.join(tmp, 'torch')
w = SummaryWriter(log_dir=d)
for tag, value, step, wall in SCALARS:
    w.add_scalar(tag, value, step, walltime=wall)
w.close()
(event_file,) = glob.glob(os.path.join(d, 'events.out.tfevents.*'))
shutil.copy(event_file, os.path.join(OUT, 'torch-scalars.tfevents'))
read = scalars_of(d)
decoded = [{'tag': t, 'step': s, 'value': v, 'wall_time': wt} for t in sorted(read) for (s, v, wt) in read[t]]
with open(os.path.join(OUT, 'scalars.json'), 'w') as f:
    json.dump({'written': [dict(zip(['tag', 'value', 'step', 'wall_time'], s)) for s in SCALARS], 'read_by_tensorboard': decoded}, f, indent=1)
    f.write('\n')

# 2. transformers' Trainer, report_to tensorboard.
from transformers import BertConfig, BertForTokenClassification, Trainer, TrainingArguments  # noqa: E402

torch.manual_seed(0)
cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=3, max_position_embeddings=32)
model = BertForTokenClassification(cfg)
rows = [{'input_ids': [2] + [5 + (i + j) % 40 for j in range(6)] + [3], 'labels': [-100] + [(i + j) % 3 for j in range(6)] + [-100]} for i in range(16)]


def compute_metrics(p):
    return {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'accuracy': 0.5}


hf_out = os.path.join(tmp, 'hf')
args = TrainingArguments(output_dir=hf_out, report_to=['tensorboard'], logging_steps=1, eval_strategy='steps', eval_steps=2, max_steps=4,
                         per_device_train_batch_size=4, per_device_eval_batch_size=4, save_strategy='no', use_cpu=True, disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=rows, eval_dataset=rows[:8], compute_metrics=compute_metrics)
trainer.train()
trainer.evaluate()
hf_tags = set()
run_dirs = sorted(glob.glob(os.path.join(hf_out, 'runs', '*')))
assert len(run_dirs) == 1, run_dirs
for f in glob.glob(os.path.join(run_dirs[0], 'events.out.tfevents.*')):
    hf_tags |= set(scalars_of(f))
with open(os.path.join(OUT, 'hf-trainer-tags.json'), 'w') as f:
    json.dump({'transformers': __import__('transformers').__version__, 'logdir': os.path.relpath(run_dirs[0], hf_out).split(os.sep)[0] + '/<Mon DD_HH-MM-SS>_<host>',
               'args': {'logging_steps': 1, 'eval_strategy': 'steps', 'eval_steps': 2, 'max_steps': 4, 'then': 'trainer.evaluate()'}, 'tags': sorted(hf_tags)}, f, indent=1)
    f.write('\n')

# 3. tokentune's run with the same schedule; its event files read by TensorBoard.
data = os.path.join(tmp, 'train.conll')
words = ['anna', 'oslo', 'went', 'to', 'the', 'sea', 'peter', 'paris']
tags = {'anna': 'B-PER', 'peter': 'B-PER', 'oslo': 'B-LOC', 'paris': 'B-LOC'}
with open(data, 'w') as f:
    for i in range(16):
        for j in range(6):
            wd = words[(i + j) % len(words)]
            f.write(f'{wd} {tags.get(wd, "O")}\n')
        f.write('\n')
vocab = os.path.join(tmp, 'vocab.txt')
with open(vocab, 'w') as f:
    f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + words) + '\n')
config = os.path.join(tmp, 'config.json')
with open(config, 'w') as f:
    json.dump({'model_type': 'bert', 'vocab_size': 13, 'hidden_size': 16, 'num_hidden_layers': 1, 'num_attention_heads': 2, 'intermediate_size': 32, 'max_position_embeddings': 32}, f)
tt_out = os.path.join(tmp, 'tt')
subprocess.run(['node', os.path.join(ROOT, 'bin', 'tokentune.js'), 'train', '--config-name', config, '--tokenizer-name', vocab, '--train-file', data,
                '--validation-file', data, '--do-train', '--do-eval', '--output-dir', tt_out, '--report-to', 'tensorboard', '--logging-steps', '1',
                '--eval-strategy', 'steps', '--eval-steps', '2', '--max-steps', '4', '--per-device-train-batch-size', '4', '--save-strategy', 'no',
                '--disable-tqdm'], check=True, stdout=subprocess.DEVNULL)
(tt_run,) = glob.glob(os.path.join(tt_out, 'runs', '*'))
ours = scalars_of(tt_run)
expected = {}
with open(os.path.join(tt_out, 'log.jsonl')) as f:
    for line in f:
        rec = json.loads(line)
        for k, v in rec.items():
            if k == 'step' or not isinstance(v, (int, float)) or k.startswith('predict_'):
                continue
            tag = 'eval/' + k[5:] if k.startswith('eval_') else 'train/' + k
            expected.setdefault(tag, []).append((rec['step'], float(np.float32(v))))
# The final do_eval record is not in log.jsonl (written after training): it comes from eval_results.json.
with open(os.path.join(tt_out, 'eval_results.json')) as f:
    final = json.load(f)
checked = 0
for tag, got in ours.items():
    want = expected.get(tag, [])
    got_sv = [(s, v) for (s, v, _) in got]
    extra = got_sv[len(want):]
    assert got_sv[:len(want)] == want, (tag, got_sv, want)
    for s, v in extra:  # the final evaluation
        key = 'eval_' + tag[5:] if tag.startswith('eval/') else tag[6:]
        assert s == 4 and v == float(np.float32(final[key])), (tag, s, v, final.get(key))
    checked += len(got_sv)
assert set(expected) <= set(ours), set(expected) - set(ours)
compare = {'tokentune_tags': sorted(ours), 'only_transformers': sorted(hf_tags - set(ours)), 'only_tokentune': sorted(set(ours) - hf_tags), 'scalars_checked': checked}
with open(os.path.join(OUT, 'compare.json'), 'w') as f:
    json.dump(compare, f, indent=1)
    f.write('\n')
print(json.dumps(compare, indent=1))
shutil.rmtree(tmp)
