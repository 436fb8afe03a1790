#!/usr/bin/python3
"""Train the reference PyTorch BERT on the exact batches tokentune trained on.

    /usr/bin/python3 scripts/parity/torch-train.py WORK_DIR [--threads N]

WORK_DIR is what `node dist/bench/compare-torch.js` wrote (see scripts/README.md):

    init/config.json, init/model.safetensors   initial weights (HF names)
    hparams.json                               optimizer, schedule, logging/eval steps
    batches/{train,validation,test}.json       per batch: offset (int32 elements), batch, seq
    batches/{train,validation,test}.i32        per batch, back to back, little-endian int32:
                                               input_ids, attention_mask, token_type_ids, labels
                                               (each batch*seq, row-major)

It trains with HF Trainer's recipe written out by hand (transformers is not installed):
torch.optim.AdamW over HF's two parameter groups, LambdaLR with HF's warmup formulas,
clip_grad_norm_, CrossEntropyLoss mean over labelled tokens, dropout from torch's own RNG.
At every evaluation step it writes the LOGITS of the validation batches (and at the end those
of the test batches) as raw float32 [batch, seq, labels] back to back, so that the F1 is
computed by tokentune's own word-level rule and metric code, identical for both runs:

    torch/logits/validation-step{N}.f32, torch/logits/test-final.f32
    torch/log.jsonl     one JSON record per logging window / evaluation / summary

With --masks-from WORK_DIR/dropout-seeds.json every nn.Dropout is replaced by a module that
rebuilds tokentune's keep mask (dropoutHash over the element index, see src/engine/kernels.ts)
from the seed tokentune used at that site and step, so both runs drop exactly the same units.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as ref  # noqa: E402

SAFETENSORS_NP = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


class DumpError(Exception):
    """A work-dir file that is missing, truncated or inconsistent."""


def read_safetensors(path):
    """Reads every tensor of a safetensors file, checking each data span lies in the file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise DumpError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", raw, 0)
    if 8 + n > len(raw):
        raise DumpError(f"{path}: header length {n} exceeds file size {len(raw)}")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        dtype = SAFETENSORS_NP.get(info.get("dtype"))
        if dtype is None:
            raise DumpError(f"{path}: tensor {name}: unsupported dtype {info.get('dtype')!r}")
        b, e = info["data_offsets"]
        count = math.prod(info["shape"])
        if not (0 <= b <= e <= len(data)) or e - b != count * np.dtype(dtype).itemsize:
            raise DumpError(f"{path}: tensor {name}: data_offsets {b}..{e} do not fit "
                            f"shape {info['shape']} in a {len(data)}-byte data section")
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:e], dtype=dtype).reshape(info["shape"]).copy())
    return out


def load_batches(work, split):
    """The dumped batches of a split as a list of dicts of int64 tensors [batch, seq]."""
    index_path = os.path.join(work, "batches", f"{split}.json")
    data_path = os.path.join(work, "batches", f"{split}.i32")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    flat = np.fromfile(data_path, dtype="<i4")
    batches = []
    for i, rec in enumerate(index["batches"]):
        off, b, t = rec["offset"], rec["batch"], rec["seq"]
        n = b * t
        if not (isinstance(off, int) and off >= 0 and b >= 1 and t >= 1
                and off + 4 * n <= flat.size):
            raise DumpError(f"{index_path}: batch {i} (offset {off}, {b} x {t}) lies outside "
                            f"{data_path} ({flat.size} int32 values)")
        parts = [torch.from_numpy(flat[off + k * n: off + (k + 1) * n].astype(np.int64))
                 .view(b, t) for k in range(4)]
        batches.append(dict(input_ids=parts[0], attention_mask=parts[1],
                            token_type_ids=parts[2], labels=parts[3]))
    if index["batches"] and index["batches"][-1]["offset"] + 4 * n != flat.size:
        raise DumpError(f"{data_path}: {flat.size} int32 values, but the index ends at "
                        f"{index['batches'][-1]['offset'] + 4 * n}")
    return batches


def build_model(work):
    with open(os.path.join(work, "init", "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    config = ref.BertConfig(
        vocab_size=c["vocab_size"], hidden_size=c["hidden_size"],
        num_hidden_layers=c["num_hidden_layers"],
        num_attention_heads=c["num_attention_heads"],
        intermediate_size=c["intermediate_size"],
        id2label={int(k): v for k, v in c["id2label"].items()},
        max_position_embeddings=c["max_position_embeddings"],
        type_vocab_size=c["type_vocab_size"], hidden_act=c["hidden_act"],
        hidden_dropout_prob=c["hidden_dropout_prob"],
        attention_probs_dropout_prob=c["attention_probs_dropout_prob"],
        classifier_dropout=c.get("classifier_dropout"),
        layer_norm_eps=c["layer_norm_eps"], initializer_range=c["initializer_range"],
        pad_token_id=c["pad_token_id"])
    model = ref.BertForTokenClassification(config)
    # strict: every HF name must be present with its shape, so a naming mismatch cannot pass.
    model.load_state_dict(read_safetensors(os.path.join(work, "init", "model.safetensors")),
                          strict=True)
    return model


def lr_lambda(kind, warmup, total, num_cycles=0.5):
    """transformers.optimization's schedules, as the multiplier LambdaLR applies."""
    def f(step):
        if kind == "constant":
            return 1.0
        if step < warmup:
            return float(step) / float(max(1, warmup))
        if kind == "constant_with_warmup":
            return 1.0
        if kind == "linear":
            return max(0.0, float(total - step) / float(max(1, total - warmup)))
        if kind == "cosine":
            progress = float(step - warmup) / float(max(1, total - warmup))
            return max(0.0, 0.5 * (1.0 + math.cos(math.pi * num_cycles * 2.0 * progress)))
        raise ValueError(f"unknown lr_scheduler_type {kind!r}")
    return f


def dropout_hash(seed, n):
    """tokentune's dropoutHash(seed, i) for i in [0, n): murmur3 fmix32 of i * 0x9e3779b1 + seed
    (uint32 arithmetic, wrapping)."""
    h = (np.arange(n, dtype=np.uint32) * np.uint32(0x9E3779B1) + np.uint32(seed)).astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


class MaskSchedule:
    """The site seeds of the current training forward, handed out in call order."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        self.seeds = d["seeds"]
        self.current, self.used = None, 0

    def begin(self, step_index):
        if step_index >= len(self.seeds):
            raise DumpError(f"dropout seeds cover {len(self.seeds)} steps, step {step_index + 1} has none")
        self.current, self.used = self.seeds[step_index], 0

    def next(self):
        if self.current is None or self.used >= len(self.current):
            raise DumpError(f"forward used more than the {len(self.current or [])} dropout sites listed")
        self.used += 1
        return self.current[self.used - 1]

    def end(self):
        if self.used != len(self.current):
            raise DumpError(f"forward used {self.used} dropout sites, {len(self.current)} listed")
        self.current = None


class HashDropout(torch.nn.Module):
    """Inverted dropout with tokentune's keep mask: keep[i] = hash(seed, i) >= floor(p * 2^32)."""

    def __init__(self, p, schedule):
        super().__init__()
        self.p, self.schedule = p, schedule
        self.threshold = min(4294967295, math.floor(p * 4294967296))

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = dropout_hash(self.schedule.next(), x.numel()) >= np.uint32(self.threshold)
        mask = torch.from_numpy(keep).view(x.shape).to(x.dtype)
        return x * mask * (1.0 / (1.0 - self.p))


def use_hash_dropout(model, schedule):
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Dropout):
                setattr(module, name, HashDropout(child.p, schedule))


def write_logits(model, batches, path):
    """Eval-mode forward over `batches`; raw float32 logits back to back."""
    was_training = model.training
    model.eval()
    with torch.no_grad(), open(path + ".tmp", "wb") as f:
        for b in batches:
            _, logits, _ = model(b["input_ids"], b["token_type_ids"], b["attention_mask"])
            f.write(logits.contiguous().numpy().astype("<f4", copy=False).tobytes())
    os.replace(path + ".tmp", path)
    model.train(was_training)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work", help="work dir written by dist/bench/compare-torch.js")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--masks-from", help="dropout-seeds.json: use tokentune's dropout masks")
    a = ap.parse_args()
    work = a.work
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    with open(os.path.join(work, "hparams.json"), encoding="utf-8") as f:
        hp = json.load(f)
    torch.manual_seed(hp["seed"])  # dropout masks: torch's own stream, not ours
    model = build_model(work)
    schedule = None
    if a.masks_from:
        schedule = MaskSchedule(a.masks_from)
        use_hash_dropout(model, schedule)
    train = load_batches(work, "train")
    validation = load_batches(work, "validation")
    test = load_batches(work, "test")
    total = hp["total_steps"]
    if len(train) != total:
        raise DumpError(f"hparams.json says {total} steps but batches/train.json has {len(train)}")

    groups, _, _ = ref.hf_trainer_param_groups(model, hp["weight_decay"])
    opt = torch.optim.AdamW(groups, lr=hp["learning_rate"],
                            betas=(hp["adam_beta1"], hp["adam_beta2"]), eps=hp["adam_epsilon"])
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lr_lambda(hp["lr_scheduler_type"], hp["warmup_steps"], total))

    out = os.path.join(work, "torch")
    os.makedirs(os.path.join(out, "logits"), exist_ok=True)
    log = open(os.path.join(out, "log.jsonl"), "w", encoding="utf-8")

    def emit(rec):
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(" | ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in rec.items()), flush=True)

    eval_steps = set(hp["eval_steps"])
    # Step-0 logits check that both sides start from the same weights.
    write_logits(model, validation, os.path.join(out, "logits", "validation-step0.f32"))
    model.train()
    started = time.perf_counter()
    eval_seconds = 0.0
    window, total_loss = [], 0.0
    for step, b in enumerate(train, start=1):
        opt.zero_grad(set_to_none=True)
        if schedule:
            schedule.begin(step - 1)
        loss, _, _ = model(b["input_ids"], b["token_type_ids"], b["attention_mask"], b["labels"])
        if schedule:
            schedule.end()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), hp["max_grad_norm"])
        lr = opt.param_groups[0]["lr"]  # the rate this update uses (LambdaLR at step-1)
        opt.step()
        sched.step()
        window.append(loss.item())
        total_loss += loss.item()
        if step % hp["logging_steps"] == 0:
            emit({"step": step, "loss": sum(window) / len(window), "grad_norm": float(norm),
                  "learning_rate": lr})
            window = []
        if step in eval_steps:
            t0 = time.perf_counter()
            write_logits(model, validation, os.path.join(out, "logits", f"validation-step{step}.f32"))
            eval_seconds += time.perf_counter() - t0
            emit({"step": step, "eval_logits": f"validation-step{step}.f32"})
    train_seconds = time.perf_counter() - started
    write_logits(model, test, os.path.join(out, "logits", "test-final.f32"))
    emit({"step": total, "train_runtime": train_seconds, "eval_runtime_total": eval_seconds,
          "train_loss": total_loss / max(1, total), "threads": torch.get_num_threads(),
          "torch_version": torch.__version__, "dropout_masks": "tokentune" if schedule else "torch"})
    log.close()


if __name__ == "__main__":
    try:
        main()
    except DumpError as e:
        print(f"torch-train.py: {e}", file=sys.stderr)
        sys.exit(2)
