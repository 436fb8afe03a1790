#!/usr/bin/env python3
"""Fixtures for the training hand-off between tokentune and transformers' Trainer.

    PY=$(bash ../shared/bench/hf-env.sh)      # transformers 5, torch 2.x, numpy
    $PY scripts/make-handoff-fixtures.py      # from the repo root

Writes test/fixtures/hf-trainer-checkpoint/:
    checkpoint-3/      what transformers' Trainer saved after 3 steps of a tiny BERT
                       (config.json, model.safetensors, optimizer.pt, scheduler.pt,
                       rng_state.pth, trainer_state.json; training_args.bin is dropped:
                       it is a pickled Python object that tokentune never reads)
    expected.safetensors  the batch of step 4, the Trainer's AdamW moments flattened in
                       its group order, and every parameter after step 4 (dropout off)
    expected.json      the step-4 learning rate, clipping norm, RNG states that
                       set_seed(42) and set_seed(4294967295) leave (python, numpy, torch)
"""
import json
import os
import random
import shutil
import struct
import sys

import numpy as np
import torch
from transformers import BertConfig, BertForTokenClassification, Trainer, TrainerCallback, TrainingArguments, set_seed

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "test", "fixtures", "hf-trainer-checkpoint")
sys.dont_write_bytecode = True

torch.set_num_threads(1)
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
B, T = 4, 7


def batch(step):
    g = torch.Generator().manual_seed(1000 + step)
    ids = torch.randint(4, 60, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 5:] = 0  # padding in the batch
    mask[3, 3:] = 0
    ids[mask == 0] = 0
    labels = torch.randint(0, len(LABELS), (B, T), generator=g)
    labels[mask == 0] = -100
    labels[:, 0] = -100
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros(B, T, dtype=torch.long), "labels": labels}


class Batches(torch.utils.data.Dataset):
    """Each item is a whole batch; the collator unwraps it (so the Trainer sees our batches)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return batch(i)


def collate(items):
    assert len(items) == 1
    return items[0]


class SequentialTrainer(Trainer):
    def _get_train_sampler(self, *args, **kwargs):
        return torch.utils.data.SequentialSampler(self.train_dataset)


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, (dtype, shape, raw) in tensors.items():
        header[k] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f32(t):
    return ("F32", tuple(t.shape), t.detach().contiguous().float().numpy().tobytes())


def i32(t):
    return ("I32", tuple(t.shape), t.detach().contiguous().to(torch.int32).numpy().tobytes())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    set_seed(7)
    cfg = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
                     max_position_embeddings=32, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                     id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)})
    model = BertForTokenClassification(cfg)
    work = os.path.join(OUT, "run")
    args = TrainingArguments(output_dir=work, max_steps=6, save_steps=3, per_device_train_batch_size=1, learning_rate=5e-3,
                             weight_decay=0.01, warmup_steps=2, lr_scheduler_type="linear", logging_steps=1, report_to=[],
                             use_cpu=True, seed=42, max_grad_norm=1.0, save_only_model=False, dataloader_num_workers=0)
    trainer = SequentialTrainer(model=model, args=args, train_dataset=Batches(), data_collator=collate)
    captured = {}

    class Capture(TrainerCallback):  # step 4 is the one tokentune replays from checkpoint-3
        def on_step_begin(self, args, state, control, **kw):
            if state.global_step == 3:
                captured["lr"] = kw["lr_scheduler"].get_last_lr()[0]

        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 4:
                captured["params"] = {n: p.detach().clone() for n, p in kw["model"].named_parameters()}

    trainer.add_callback(Capture())
    trainer.train()
    ckpt = os.path.join(work, "checkpoint-3")
    dst = os.path.join(OUT, "checkpoint-3")
    os.makedirs(dst)
    for f in ["config.json", "model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "trainer_state.json"]:
        shutil.copy(os.path.join(ckpt, f), dst)
    shutil.rmtree(work)

    # The Trainer's AdamW moments at step 3, flattened in its group order (= tokentune's flat order).
    opt = torch.load(os.path.join(dst, "optimizer.pt"), weights_only=True)
    named = dict(model.named_parameters())
    decay = set(trainer.get_decay_parameter_names(model))
    order = [n for n in named if n in decay] + [n for n in named if n not in decay]
    m = torch.cat([opt["state"][i]["exp_avg"].flatten() for i in range(len(order))])
    v = torch.cat([opt["state"][i]["exp_avg_sq"].flatten() for i in range(len(order))])
    sched = torch.load(os.path.join(dst, "scheduler.pt"), weights_only=True)
    b = batch(3)  # the batch of step 4 (sequential order: item 3)
    tensors = {"exp_avg": f32(m), "exp_avg_sq": f32(v)}
    for k in ["input_ids", "attention_mask", "token_type_ids", "labels"]:
        tensors[k] = i32(b[k])
    for n, p in captured["params"].items():
        tensors[f"after_step4.{n}"] = f32(p)
    write_safetensors(os.path.join(OUT, "expected.safetensors"), tensors)

    rng = {}
    for seed in [42, 4294967295]:
        set_seed(seed)
        py = random.getstate()
        npst = np.random.get_state()
        rng[str(seed)] = {"python": [py[0], list(py[1]), py[2]], "numpy_key": [int(x) for x in npst[1]], "numpy_pos": int(npst[2]),
                          "torch_cpu_hex": torch.get_rng_state().numpy().tobytes().hex()}
    expected = {
        "decay_order": order,
        "step4_lr": captured["lr"],
        "scheduler_last_epoch": sched["last_epoch"],
        "torch": torch.__version__,
        "rng": rng,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", OUT, "lr at step 4:", captured["lr"])


if __name__ == "__main__":
    main()
