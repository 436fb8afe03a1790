#!/usr/bin/env python3
"""Proof of the training hand-off between tokentune and transformers' Trainer, both directions.

    npx tsc -p . && $TOKENTUNE_HF_PYTHON scripts/parity/handoff-check.py

On WNUT-17 (../shared), a small BERT made by transformers (bert-base-cased vocabulary, dropout
off), batch 8, lr 1e-3 with 20 warmup steps, linear decay over STEPS (200) steps, both trainers
serving tokentune's batch order:
  A   tokentune, steps 1..STEPS, checkpoint at STEPS/2
  A'  transformers' Trainer resumes A's checkpoint (tools/hf_continue.py) for the second half
  B   transformers' Trainer, steps 1..STEPS, checkpoint at STEPS/2
  B'  tokentune resumes B's checkpoint (tokentune train --resume-from-checkpoint) for the second half
and prints the per-step losses of A' against A and of B' against B (and A against B), with the
largest relative differences. A and B also evaluate on the WNUT-17 dev set every STEPS/2 steps:
eval_loss and the entity precision / recall / F1 and accuracy of each (the Trainer's predictions
scored by tokentune's seqeval-exact metrics, as seqeval is not in the offline mirror) are printed
side by side. Exits non-zero when a hand-off differs by more than --tol.
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
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))  # hf_continue.py, the user tool this checks
import hf_continue  # noqa: E402

SHARED = os.path.join(os.path.dirname(REPO), "shared")
TRAIN = os.path.join(SHARED, "data", "wnut17", "wnut17train.conll")
DEV = os.path.join(SHARED, "data", "wnut17", "emerging.dev.conll")
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


def our_evals(out_dir):
    evals = {}
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if "eval_loss" in r:
                evals[r["step"]] = r
    return evals


def seqeval_metrics(labels):
    """compute_metrics for the Trainer: the word-level tag sequences (positions with label -100
    dropped, as run_ner.py does), scored by tokentune's metrics module (tested against conlleval)."""
    def compute(p):
        preds = p.predictions.argmax(-1)
        y_true, y_pred = [], []
        for pr, la in zip(preds, p.label_ids):
            keep = [(labels[int(x)], labels[int(y)]) for x, y in zip(pr, la) if y != -100]
            y_pred.append([a for a, _ in keep])
            y_true.append([b for _, b in keep])
        script = ("import('./dist/src/metrics/index.js').then(m => { const d = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
                  " const r = m.computeNerMetrics(d.t, d.p); console.log(JSON.stringify({precision: r.precision, recall: r.recall, f1: r.f1, accuracy: r.accuracy})); })")
        out = subprocess.run(["node", "-e", script], input=json.dumps({"t": y_true, "p": y_pred}), capture_output=True, text=True, check=True, cwd=REPO)
        return json.loads(out.stdout)
    return compute


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
    evals = ["--validation-file", DEV, "--eval-strategy", "steps", "--eval-steps", str(half), "--per-device-eval-batch-size", "8"]

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
    run(["node", "bin/tokentune.js", "train", "--model", init, "--output-dir", os.path.join(w, "A")] + common + evals)
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
                             weight_decay=0.0, optim="adamw_torch", seed=42, report_to=[], use_cpu=True, disable_tqdm=True,
                             eval_strategy="steps", eval_steps=half, per_device_eval_batch_size=8)
    dev = hf_continue.Features(hf_continue.read_words(DEV, tags), tok, cfg.label2id, 128)
    trainer = hf_continue.OrderedTrainer(model=model, args=args, train_dataset=feats, eval_dataset=dev,
                                         data_collator=hf_continue.DataCollatorForTokenClassification(tok),
                                         compute_metrics=seqeval_metrics(tags))
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

    a_ev = our_evals(os.path.join(w, "A"))
    b_ev = {r["step"]: r for r in trainer.state.log_history if "eval_loss" in r}
    print("\nevaluation on WNUT-17 dev | A tokentune | B Trainer")
    for s in sorted(b_ev):
        for k in ["eval_loss", "eval_precision", "eval_recall", "eval_f1", "eval_accuracy"]:
            print(f"step {s:4d} {k:15s} | {a_ev[s][k]:.6f} | {b_ev[s][k]:.6f}")
    if max(da, db) > a.tol:
        sys.exit(f"hand-off differs by more than {a.tol}")


if __name__ == "__main__":
    main()
