"""The seed's recipe in transformers, written the way the seed describes it: the Python half of
scripts/parity/seed-recipe-side-by-side.sh (not CI). The seed's own Python file is not available anywhere;
this is a reconstruction from its description (issue 5): AutoTokenizer and
AutoModelForTokenClassification from a model folder, tokenize_and_align_labels, a
DataCollatorForTokenClassification, TrainingArguments with exactly the recipe's values, Trainer,
a seqeval compute_metrics, then trainer.evaluate() printing precision, recall, F1 and accuracy.

  cd WORK_DIR && python seed-recipe-hf.py --model INIT_DIR --train train.jsonl --validation validation.jsonl

Data files are JSON lines with `tokens` and `ner_tags` (tag strings), loaded with `datasets`.
Writes ./results (checkpoints, eval_results.json, trainer_state.json), as the recipe says.

seqeval is not in this machine's offline package mirror. When it cannot be imported,
compute_metrics scores the same (label, prediction) sequences with `tokentune score` (given by
--tokentune-bin), whose default mode is seqeval's default mode and is tested against seqeval.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from datasets import load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification, Trainer,
                          TrainingArguments)

ap = argparse.ArgumentParser()
ap.add_argument('--model', required=True, help='model folder (the shared random-init BERT)')
ap.add_argument('--train', required=True)
ap.add_argument('--validation', required=True)
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--tokentune-bin', default=None, help='bin/tokentune.js, scores when seqeval is missing')
a = ap.parse_args()
torch.set_num_threads(a.threads)

datasets = load_dataset('json', data_files={'train': a.train, 'validation': a.validation})
label_list = sorted({t for split in datasets.values() for tags in split['ner_tags'] for t in tags})
label2id = {l: i for i, l in enumerate(label_list)}

tokenizer = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForTokenClassification.from_pretrained(
    a.model, num_labels=len(label_list), id2label=dict(enumerate(label_list)), label2id=label2id)


def tokenize_and_align_labels(examples):
    tokenized = tokenizer(examples['tokens'], truncation=True, is_split_into_words=True)
    labels = []
    for i, tags in enumerate(examples['ner_tags']):
        previous, ids = None, []
        for word_id in tokenized.word_ids(batch_index=i):
            # special tokens and continuation sub-tokens are ignored by the loss (-100)
            ids.append(-100 if word_id is None or word_id == previous else label2id[tags[word_id]])
            previous = word_id
        labels.append(ids)
    tokenized['labels'] = labels
    return tokenized


tokenized_datasets = datasets.map(tokenize_and_align_labels, batched=True, remove_columns=['tokens', 'ner_tags'])
data_collator = DataCollatorForTokenClassification(tokenizer)

try:
    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

    def seqeval_scores(y_true, y_pred):
        return {'precision': precision_score(y_true, y_pred), 'recall': recall_score(y_true, y_pred),
                'f1': f1_score(y_true, y_pred), 'accuracy': accuracy_score(y_true, y_pred)}
except ImportError:
    if not a.tokentune_bin:
        raise SystemExit('seqeval is not installed: pip install seqeval, or pass --tokentune-bin bin/tokentune.js')

    def seqeval_scores(y_true, y_pred):
        with tempfile.NamedTemporaryFile('w', suffix='.conll', delete=False, encoding='utf-8') as f:
            for gold, pred in zip(y_true, y_pred):
                f.writelines(f'w {g} {p}\n' for g, p in zip(gold, pred))
                f.write('\n')
        try:
            out = subprocess.run(['node', a.tokentune_bin, 'score', f.name, '--json'], check=True, capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        s = json.loads(out.stdout)
        return {k: s[k] for k in ('precision', 'recall', 'f1', 'accuracy')}


def compute_metrics(p):
    predictions, labels = p
    predictions = np.argmax(predictions, axis=2)
    true_predictions = [[label_list[p] for (p, l) in zip(pred, lab) if l != -100] for pred, lab in zip(predictions, labels)]
    true_labels = [[label_list[l] for (p, l) in zip(pred, lab) if l != -100] for pred, lab in zip(predictions, labels)]
    return seqeval_scores(true_labels, true_predictions)


# The recipe's values; `evaluation_strategy` (the seed's spelling) is `eval_strategy` in transformers 5.
training_args = TrainingArguments(
    output_dir='./results',
    eval_strategy='steps',
    eval_steps=10,
    learning_rate=1.5e-5,
    per_device_train_batch_size=16,
    per_device_eval_batch_size=16,
    num_train_epochs=20,
    adam_beta1=0.9,
    adam_beta2=0.999,
    adam_epsilon=1e-8,
    use_cpu=True,
    report_to=[],
    disable_tqdm=True,
)

trainer = Trainer(
    model=model,
    args=training_args,
    train_dataset=tokenized_datasets['train'],
    eval_dataset=tokenized_datasets['validation'],
    data_collator=data_collator,
    processing_class=tokenizer,
    compute_metrics=compute_metrics,
)

trainer.train()
results = trainer.evaluate()
for key in ('eval_precision', 'eval_recall', 'eval_f1', 'eval_accuracy'):
    print(f'{key} = {results[key]:.4f}')
trainer.save_metrics('eval', results)
trainer.save_state()
