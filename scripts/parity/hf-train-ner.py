"""transformers' own Trainer on a CoNLL column file, from scratch, as run_ner.py would train it:
the Python half of scripts/parity/trainer-parity-dropout.sh (not CI).

  $TOKENTUNE_HF_PYTHON scripts/parity/hf-train-ner.py --config CONFIG.json --vocab-dir DIR --train FILE --test FILE \
      --out DIR --seed S [--max-train-samples N] [--max-steps N | --epochs E] [--lr 1e-3] [--batch 16]

BertForTokenClassification(CONFIG) with transformers' initialisation under set_seed(S) (dropout as
CONFIG says), AutoTokenizer from DIR (vocab.txt + tokenizer_config.json: in transformers 5
BertTokenizerFast(vocab_file=...) builds a 5-token vocabulary), first sub-token labelled,
DataCollatorForTokenClassification, Trainer with its own random sampler, linear schedule with
warmup_steps 0.1 (a ratio in transformers 5), weight decay 0.01, AdamW. Writes OUT/predictions.conll
(`word gold pred` per line, the whole test file, no truncation) for `tokentune score`, and
OUT/log_history.json.
"""
import argparse
import json
import os

import numpy as np
import torch
from transformers import (AutoTokenizer, BertConfig, BertForTokenClassification, DataCollatorForTokenClassification, Trainer,
                          TrainingArguments, set_seed)


def read_conll(path, limit=None):
    sents, words, tags = [], [], []
    for line in open(path, encoding='utf-8'):
        line = line.strip()
        if not line or line.startswith('-DOCSTART-'):
            if words:
                sents.append((words, tags))
                words, tags = [], []
            continue
        cols = line.split()
        words.append(cols[0])
        tags.append(cols[-1])
    if words:
        sents.append((words, tags))
    return sents[:limit] if limit else sents


def encode(tok, sents, label2id, max_length):
    enc = tok([w for w, _ in sents], is_split_into_words=True, truncation=True, max_length=max_length)
    rows = []
    for i, (_, tags) in enumerate(sents):
        prev, labels = None, []
        for wid in enc.word_ids(i):
            labels.append(-100 if wid is None or wid == prev else label2id[tags[wid]])
            prev = wid
        rows.append({'input_ids': enc['input_ids'][i], 'attention_mask': enc['attention_mask'][i],
                     'token_type_ids': enc['token_type_ids'][i], 'labels': labels})
    return rows


def main():
    ap = argparse.ArgumentParser()
    for k in ['config', 'vocab_dir', 'train', 'test', 'out']:
        ap.add_argument('--' + k.replace('_', '-'), required=True)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--max-train-samples', type=int, default=None)
    ap.add_argument('--max-steps', type=int, default=-1)
    ap.add_argument('--epochs', type=float, default=3.0)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)

    train = read_conll(a.train, a.max_train_samples)
    test = read_conll(a.test)
    labels = sorted({t for _, tags in train + test for t in tags}, key=lambda t: (t != 'O', t[2:], t))
    label2id = {l: i for i, l in enumerate(labels)}
    tok = AutoTokenizer.from_pretrained(a.vocab_dir)
    cfg = BertConfig(**{**json.load(open(a.config)), 'vocab_size': tok.vocab_size,
                        'id2label': dict(enumerate(labels)), 'label2id': label2id})
    set_seed(a.seed)
    model = BertForTokenClassification(cfg)

    args = TrainingArguments(output_dir=os.path.join(a.out, 'trainer'), learning_rate=a.lr, warmup_steps=0.1, weight_decay=0.01,
                             lr_scheduler_type='linear', per_device_train_batch_size=a.batch, per_device_eval_batch_size=32,
                             max_steps=a.max_steps, num_train_epochs=a.epochs, seed=a.seed, logging_steps=50,
                             save_strategy='no', eval_strategy='no', report_to=[], use_cpu=True, disable_tqdm=True,
                             dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=encode(tok, train, label2id, 128),
                      data_collator=DataCollatorForTokenClassification(tok))
    trainer.train()

    test_rows = encode(tok, test, label2id, 512)
    logits = trainer.predict(test_rows).predictions
    with open(os.path.join(a.out, 'predictions.conll'), 'w', encoding='utf-8') as f:
        for (words, tags), row, lg in zip(test, test_rows, logits):
            pred = [labels[int(np.argmax(lg[j]))] for j, y in enumerate(row['labels']) if y != -100]
            assert len(pred) == len(words), 'a test sentence was truncated'
            for w, g, p in zip(words, tags, pred):
                f.write(f'{w} {g} {p}\n')
            f.write('\n')
    json.dump(trainer.state.log_history, open(os.path.join(a.out, 'log_history.json'), 'w'), indent=1)
    print('wrote', os.path.join(a.out, 'predictions.conll'))


if __name__ == '__main__':
    main()
