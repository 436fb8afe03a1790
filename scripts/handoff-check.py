#!/usr/bin/env python3
"""Proof of the training hand-off between tokentune and transformers' Trainer, both directions.

    PY=$(bash ../shared/bench/hf-env.sh); npx tsc -p . && $PY scripts/handoff-check.py

On WNUT-17 (../shared), a small BERT made by transformers (bert-base-cased vocabulary, dropout
off), batch 8, lr 1e-3 with 20 warmup steps, linear decay over STEPS (200) steps, both trainers
serving tokentune's batch order:
  A   tokentune, steps 1..STEPS, checkpoint at STEPS/2
  A'  transformers' Trainer resumes A's checkpoint (scripts/hf_continue.py) for the second half
  B   transformers' Trainer, steps 1..STEPS, checkpoint at STEPS/2
  B'  tokentune resumes B's checkpoint (tokentune train --resume-from-checkpoint) for the second half
and prints the per-step losses of A' against A and of B' against B (and A against B), with the
largest relative differences. Exits non-zero when a hand-off differs by more than --tol.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import torch
from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast, TrainingArguments, set_seed

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import hf_continue  # noqa: E402

SHARED = os.path.join(os.path.dirname(REPO), "shared")
TRAIN = os.path.join(SHARED, "data", "wnut17", "wnut17train.conll")
VOCAB = os.path.join(SHARED, "models", "bert-base-cased-vocab", "vocab.txt")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def our_losses(out_dir):
    losses = {}
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if "loss" in r and "step" in r:
                losses[r["step"]] = r["loss"]
    return losses


def hf_losses(history):
    return {r["step"]: r["loss"] for r in history if "loss" in r}


def compare(name, ref, got, steps):
    worst, at = 0.0, None
    for s in steps:
        d = abs(got[s] - ref[s]) / abs(ref[s])
        if d > worst:
            worst, at = d, s
    print(f"{name}: {len(steps)} steps, largest relative difference {worst:.2e} (step {at})")
    return worst


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--work", default="/tmp/tokentune-handoff")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    torch.set_num_threads(2)
    half = a.steps // 2
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)

    # The starting model, made by transformers, with the WNUT-17 labels in config.json.
    sentences = hf_continue.read_words(TRAIN, [])
    tags = sorted({t for _, ts in sentences for t in ts}, key=lambda t: (t != "O", t[2:], t))
    init = os.path.join(w, "init")
    set_seed(0)
    cfg = BertConfig(vocab_size=28996, hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                     id2label=dict(enumerate(tags)), label2id={t: i for i, t in enumerate(tags)})
    BertForTokenClassification(cfg).save_pretrained(init)
    tok = BertTokenizerFast(vocab_file=VOCAB, do_lower_case=False)
    tok.save_pretrained(init)
    tok = hf_continue.AutoTokenizer.from_pretrained(init)
    common = ["--train-file", TRAIN, "--max-steps", str(a.steps), "--save-steps", str(half), "--logging-steps", "1",
              "--per-device-train-batch-size", "8", "--learning-rate", "1e-3", "--warmup-steps", "20", "--seed", "42",
              "--max-seq-length", "128", "--disable-tqdm"]

    # tokentune's batch order for epoch 0 (the whole run fits in it).
    feats = hf_continue.Features(sentences, tok, cfg.label2id, 128)
    assert a.steps * 8 <= len(feats), "the run must fit in one epoch"
    order = json.loads(subprocess.check_output(
        ["node", "-e", f"import('./dist/src/data/samplers.js').then(m => console.log(JSON.stringify(Array.from(m.shuffledOrder({len(feats)}, 42, 0)))))"],
        cwd=REPO))
    order_file = os.path.join(w, "order.json")
    with open(order_file, "w") as f:
        json.dump(order, f)

    # A: tokentune; A': the Trainer continues A's checkpoint.
    run(["node", "bin/tokentune.js", "train", "--model", init, "--output-dir", os.path.join(w, "A")] + common)
    a_hist = os.path.join(w, "A-hf.json")
    hf_continue.main(["--checkpoint", os.path.join(w, "A", f"checkpoint-{half}"), "--output-dir", os.path.join(w, "A-hf"),
                      "--order", order_file, "--log-json", a_hist, "--set", "use_cpu=true"])
    with open(a_hist) as f:
        a2 = hf_losses(json.load(f))
    a1 = our_losses(os.path.join(w, "A"))

    # B: the Trainer; B': tokentune continues B's checkpoint.
    set_seed(42)
    model = BertForTokenClassification.from_pretrained(init)
    args = TrainingArguments(output_dir=os.path.join(w, "B"), max_steps=a.steps, save_steps=half, logging_steps=1,
                             per_device_train_batch_size=8, learning_rate=1e-3, warmup_steps=20, lr_scheduler_type="linear",
                             weight_decay=0.0, optim="adamw_torch", seed=42, report_to=[], use_cpu=True, disable_tqdm=True)
    trainer = hf_continue.OrderedTrainer(model=model, args=args, train_dataset=feats,
                                         data_collator=hf_continue.DataCollatorForTokenClassification(tok))
    trainer.order = order
    trainer.train()
    b1 = hf_losses(trainer.state.log_history)
    run(["node", "bin/tokentune.js", "train", "--model", init, "--output-dir", os.path.join(w, "B-tt"),
         "--resume-from-checkpoint", os.path.join(w, "B", f"checkpoint-{half}")] + common)
    b2 = our_losses(os.path.join(w, "B-tt"))

    second = list(range(half + 1, a.steps + 1))
    print("\nstep | A tokentune | A' Trainer from A | B Trainer | B' tokentune from B")
    for s in [half + 1, half + 2, half + 10, (half + a.steps) // 2, a.steps - 1, a.steps]:
        print(f"{s:4d} | {a1[s]:.6f} | {a2[s]:.6f} | {b1[s]:.6f} | {b2[s]:.6f}")
    print()
    da = compare("tokentune -> Trainer (A' vs A)", a1, a2, second)
    db = compare("Trainer -> tokentune (B' vs B)", b1, b2, second)
    compare("tokentune vs Trainer from the same start (A vs B)", b1, a1, list(range(1, a.steps + 1)))
    if max(da, db) > a.tol:
        sys.exit(f"hand-off differs by more than {a.tol}")


if __name__ == "__main__":
    main()
