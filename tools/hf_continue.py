#!/usr/bin/env python3
"""Continue a tokentune training run in Hugging Face's Trainer (one process, or many GPUs).

A tokentune checkpoint-N folder is a Trainer checkpoint: model.safetensors + config.json +
tokenizer files, optimizer.pt, scheduler.pt, rng_state.pth and trainer_state.json in torch's
and transformers' formats. This script rebuilds the run's TrainingArguments from the
training_args.json tokentune wrote beside them, reads the same data files (CoNLL columns or
JSON lines with tokens + ner_tags), labels each word's first sub-token as tokentune does, and calls
Trainer.train(resume_from_checkpoint=...):

    python tools/hf_continue.py --checkpoint results/checkpoint-500
    accelerate launch tools/hf_continue.py --checkpoint results/checkpoint-500 --output-dir gpu-run
    torchrun --nproc_per_node 8 tools/hf_continue.py --checkpoint results/checkpoint-500 --output-dir gpu-run

The result (and its checkpoints) is again a folder tokentune loads, predicts with and resumes:
`tokentune train ... --resume-from-checkpoint gpu-run/checkpoint-N`.

--order FILE (JSON: feature indices in the order tokentune served them, for one epoch) replays
tokentune's batch order exactly; scripts/parity/handoff-check.py uses it to prove the hand-off.
Needs: torch 2.x, transformers 5, accelerate (bash ../shared/bench/hf-env.sh builds them).
"""
import argparse
import dataclasses
import json
import os
import sys

import torch
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification, Trainer,
                          TrainingArguments)

# tokentune's training_args.json keys that are TrainingArguments fields of the same meaning.
SHARED_ARGS = [
    "num_train_epochs", "max_steps", "per_device_train_batch_size", "per_device_eval_batch_size",
    "gradient_accumulation_steps", "seed", "data_seed", "group_by_length", "bf16", "optim", "learning_rate",
    "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon", "max_grad_norm", "lr_scheduler_type",
    "eval_strategy", "eval_steps", "logging_strategy", "logging_steps", "logging_first_step", "save_strategy",
    "save_steps", "save_total_limit", "load_best_model_at_end", "metric_for_best_model", "greater_is_better",
]


def read_words(path, labels):
    """Sentences as (words, tags) from CoNLL columns (word first, tag last) or JSON lines."""
    out = []
    with open(path, encoding="utf-8") as f:
        if path.endswith((".json", ".jsonl")):
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                rec = json.loads(line)
                tags = [labels[t] if isinstance(t, int) else t for t in rec["ner_tags"]]
                out.append((rec["tokens"], tags))
            return out
        words, tags = [], []
        for n, line in enumerate(f, 1):
            cols = line.split()
            if not cols or cols[0] == "-DOCSTART-":
                if words:
                    out.append((words, tags))
                words, tags = [], []
                continue
            if len(cols) < 2:
                sys.exit(f"{path}:{n}: expected a word and a tag, got {line.strip()!r}")
            words.append(cols[0])
            tags.append(cols[-1])
        if words:
            out.append((words, tags))
    return out


class Features(torch.utils.data.Dataset):
    def __init__(self, sentences, tokenizer, label2id, max_len):
        self.items = []
        for words, tags in sentences:
            enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_len)
            prev, labels = None, []
            for w in enc.word_ids():
                labels.append(-100 if w is None or w == prev else label2id[tags[w]])
                prev = w
            enc["labels"] = labels
            self.items.append(enc)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class FixedOrder(torch.utils.data.Sampler):
    def __init__(self, order):
        self.order = order

    def __iter__(self):
        return iter(self.order)

    def __len__(self):
        return len(self.order)


class OrderedTrainer(Trainer):
    """The Trainer, serving training features in a given order (tokentune's) when one is given."""

    order = None

    def _get_train_sampler(self, *args, **kwargs):
        if self.order is None:
            return super()._get_train_sampler(*args, **kwargs)
        return FixedOrder(self.order)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="a checkpoint-N folder that tokentune (or the Trainer) wrote")
    p.add_argument("--output-dir", help="default: the run's output_dir from training_args.json")
    p.add_argument("--train-file", help="default: the run's train_file")
    p.add_argument("--validation-file", help="default: the run's validation_file")
    p.add_argument("--order", help="JSON list of training feature indices: tokentune's order for the epoch")
    p.add_argument("--log-json", help="write the Trainer's log_history here at the end")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a TrainingArguments field (JSON value), e.g. --set max_steps=400")
    a = p.parse_args(argv)

    with open(os.path.join(a.checkpoint, "training_args.json")) as f:
        ours = json.load(f)
    kwargs = {k: ours[k] for k in SHARED_ARGS if k in ours and ours[k] is not None}
    # transformers 5 replaced group_by_length by a sampling strategy.
    if kwargs.pop("group_by_length", False):
        kwargs["train_sampling_strategy"] = "group_by_length"
    # transformers 5 takes a warmup ratio as a float below 1 in warmup_steps.
    kwargs["warmup_steps"] = ours.get("warmup_steps") or ours.get("warmup_ratio") or 0
    for kv in a.set:
        k, _, v = kv.partition("=")
        kwargs[k] = json.loads(v)
    out = a.output_dir or ours["output_dir"]
    known = {f.name for f in dataclasses.fields(TrainingArguments)}
    for k in [k for k in kwargs if k not in known]:
        print(f"warning: this transformers has no TrainingArguments.{k}; ignoring {k}={kwargs.pop(k)!r}", file=sys.stderr)
    args = TrainingArguments(output_dir=out, report_to=[], **kwargs)

    tokenizer = AutoTokenizer.from_pretrained(a.checkpoint)
    model = AutoModelForTokenClassification.from_pretrained(a.checkpoint)
    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    label2id = {l: i for i, l in enumerate(labels)}
    max_len = min(ours.get("max_seq_length") or 512, model.config.max_position_embeddings)
    train_file = a.train_file or ours.get("train_file")
    if not train_file:
        sys.exit("no training data: pass --train-file (the run's training_args.json names none)")
    train = Features(read_words(train_file, labels), tokenizer, label2id, max_len)
    dev_file = a.validation_file or ours.get("validation_file")
    dev = Features(read_words(dev_file, labels), tokenizer, label2id, max_len) if dev_file else None

    trainer = OrderedTrainer(model=model, args=args, train_dataset=train, eval_dataset=dev,
                             data_collator=DataCollatorForTokenClassification(tokenizer), processing_class=tokenizer)
    if a.order:
        with open(a.order) as f:
            trainer.order = json.load(f)
        if sorted(trainer.order) != list(range(len(train))):
            sys.exit(f"--order holds {len(trainer.order)} indices; the training data has {len(train)} features")
    trainer.train(resume_from_checkpoint=a.checkpoint)
    trainer.save_model(out)
    if a.log_json:
        with open(a.log_json, "w") as f:
            json.dump(trainer.state.log_history, f)


if __name__ == "__main__":
    main()
