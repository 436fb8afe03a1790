#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures that the TypeScript tests compare to.

    "$(bash /work/shared/bench/hf-env.sh)" scripts/make-fixtures.py   (repo root)

Writes
    test/fixtures/bert-tiny/config.json         HF config of the tiny model
    test/fixtures/bert-tiny/model.safetensors   its F32 weights (HF names)
    test/fixtures/bert-tiny/io.safetensors      batch, outputs, grads, AdamW
    test/fixtures/bert-tiny/README.md           what every tensor is
    test/fixtures/ops/ops.safetensors           single-op inputs/outputs/grads
    test/fixtures/ops/README.md

Needs torch and transformers (the model is transformers'
BertForTokenClassification with eager attention; the safetensors format is
still written and read back by hand below).  Runs with one thread so
regenerating on the same torch build gives identical bytes.
"""

import argparse
import copy
import hashlib
import json
import math
import os
import struct
import sys

import torch
import transformers
from torch.nn import functional as F
from transformers import BertConfig, BertForTokenClassification, Trainer
from transformers.activations import ACT2FN

sys.dont_write_bytecode = True  # no scripts/__pycache__ in the work tree

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The first seed from 20240611 up whose float32 AdamW trajectory is
# determined to ADAMW_F32_MAX_REL (see check_adamw_conditioning): with
# transformers' init most seeds leave some weight element with a gradient so
# small that Adam's normalisation turns float32 rounding into a 1e-5-size
# move, which no float32 implementation could reproduce at the tests' 1e-5.
SEED = 20240630
OPS_SEED = 20240612  # op fixtures' inputs (independent of SEED)
ADAMW_F32_MAX_REL = 1e-6

ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-ORG", 4: "I-ORG",
            5: "B-LOC", 6: "I-LOC", 7: "B-MISC", 8: "I-MISC"}
PAD, UNK, CLS, SEP = 0, 1, 2, 3

# AdamW as HF Trainer builds it (two groups, see trainer_param_groups)
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
ADAMW_STEPS = 3
# Post-init changes (documented in the README).  HF init leaves LayerNorm at
# 1/0 and all biases at 0, so a kernel that ignores them would pass; perturb
# them.  With std-0.02 Linear weights the attention is almost uniform, GELU
# inputs stay in its near-linear region (erf and tanh GELU agree to 1e-7) and
# logits are near 0; scaling every Linear weight by 8 (std 0.16) gives peaked
# attention, GELU inputs of std ~1.3 and logits of order 1.
LINEAR_WEIGHT_SCALE = 8.0
LN_WEIGHT_STD = 0.1   # LayerNorm weight = 1 + N(0, 0.1)
LN_BIAS_STD = 0.1     # LayerNorm bias   = N(0, 0.1)
LINEAR_BIAS_STD = 0.02  # Linear bias    = N(0, 0.02)
CLASS_WEIGHTS = [0.2, 1.0, 1.5, 0.7, 1.2, 0.9, 2.0, 1.1, 0.5]


# ---------------------------------------------------------------------------
# safetensors, written and read by hand (format: 8-byte LE u64 header length,
# JSON header {name: {dtype, shape, data_offsets [begin, end)}, "__metadata__":
# {str: str}} padded with spaces to a multiple of 8, then the raw LE data;
# offsets are relative to the start of the data section).
# ---------------------------------------------------------------------------

DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"),
          torch.int32: ("I32", "<i4"), torch.int64: ("I64", "<i8")}
NP_OF_CODE = {code: np for code, np in DTYPES.values()}


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        code, np_dtype = DTYPES[t.dtype]
        data = t.numpy().astype(np_dtype, copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader used to verify what was written: checks that the
    data regions exactly tile the data section."""
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", raw, 0)
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} exceeds file size")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        b, e = info["data_offsets"]
        np_dtype = np.dtype(NP_OF_CODE[info["dtype"]])
        count = math.prod(info["shape"])
        if not (0 <= b <= e <= len(data)) or e - b != count * np_dtype.itemsize:
            raise ValueError(f"{path}: bad data_offsets for {name}")
        spans.append((b, e))
        out[name] = torch.from_numpy(
            np.frombuffer(data[b:e], dtype=np_dtype).reshape(info["shape"]).copy())
    pos = 0
    for b, e in sorted(spans):
        if b != pos:
            raise ValueError(f"{path}: gap/overlap at data offset {pos}")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes")
    return out, metadata


# ---------------------------------------------------------------------------
# The tiny model and the batch
# ---------------------------------------------------------------------------


def tiny_config(hidden_act="gelu"):
    config = BertConfig(
        vocab_size=1000, hidden_size=64, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=128, id2label=ID2LABEL,
        label2id={v: k for k, v in ID2LABEL.items()},
        max_position_embeddings=64, type_vocab_size=2, hidden_act=hidden_act,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-12, initializer_range=0.02, pad_token_id=PAD,
        architectures=["BertForTokenClassification"])
    # Eager attention: explicit softmax(QK^T/sqrt(d) + mask), what the
    # TypeScript engine computes (sdpa may fuse and round differently).
    config._attn_implementation = "eager"
    return config


def with_hidden_act(model, hidden_act):
    """A second transformers model with the same weights (state dict) and
    dtype but another hidden_act, in eval mode."""
    other = BertForTokenClassification(tiny_config(hidden_act))
    other.to(next(model.parameters()).dtype)
    other.load_state_dict(model.state_dict())
    return other.eval()


def trainer_param_groups(model, weight_decay):
    """The two AdamW parameter groups HF Trainer builds (its own
    get_decay_parameter_names: no decay on biases and LayerNorm weights)."""
    decay_names = set(Trainer.get_decay_parameter_names(None, model))
    named = list(model.named_parameters())
    decay = [n for n, _ in named if n in decay_names]
    no_decay = [n for n, _ in named if n not in decay_names]
    groups = [{"params": [p for n, p in named if n in decay_names],
               "weight_decay": weight_decay},
              {"params": [p for n, p in named if n not in decay_names],
               "weight_decay": 0.0}]
    return groups, decay, no_decay


def build_model():
    torch.manual_seed(SEED)
    model = BertForTokenClassification(tiny_config())  # HF init
    # Perturb with the same (seeded) RNG stream, after init.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.add_(torch.randn_like(module.weight) * LN_WEIGHT_STD)
                module.bias.copy_(torch.randn_like(module.bias) * LN_BIAS_STD)
            elif isinstance(module, torch.nn.Linear):
                module.weight.mul_(LINEAR_WEIGHT_SCALE)
                module.bias.copy_(torch.randn_like(module.bias) * LINEAR_BIAS_STD)
    # Dropout probabilities stay 0.1 in the config; every fixture is computed
    # with dropout off (eval mode), also the AdamW steps.
    model.eval()
    return model


def make_batch():
    B = -100  # ignore_index
    # Row 0: one sentence, no padding; row 1: a sentence pair (token type 1
    # on the second segment) + 3 pads; row 2: short sentence + 7 pads.
    # Labels are -100 on [CLS]/[SEP]/padding and on continuation word pieces.
    input_ids = [
        [CLS, 57, 812, 813, 45, 300, UNK, 611, 612, 999, 120, SEP],
        [CLS, 410, 411, 77, SEP, 905, 23, 640, SEP, PAD, PAD, PAD],
        [CLS, 150, 151, 998, SEP, PAD, PAD, PAD, PAD, PAD, PAD, PAD],
    ]
    attention_mask = [[1] * 12, [1] * 9 + [0] * 3, [1] * 5 + [0] * 7]
    token_type_ids = [[0] * 12, [0] * 5 + [1] * 4 + [0] * 3, [0] * 12]
    labels = [
        [B, 1, 2, B, 0, 3, 0, 5, B, 7, 0, B],
        [B, 3, 4, 0, B, 7, 8, 0, B, B, B, B],
        [B, 5, B, 0, B, B, B, B, B, B, B, B],
    ]
    t = lambda x: torch.tensor(x, dtype=torch.int64)  # noqa: E731
    return dict(input_ids=t(input_ids), attention_mask=t(attention_mask),
                token_type_ids=t(token_type_ids), labels=t(labels))


def forward_backward(model, batch, class_weights=None):
    """Forward + backward with dropout off.  Returns loss, logits, hidden
    states, their gradients and the parameter gradients (all detached)."""
    model.zero_grad(set_to_none=True)
    out = model(input_ids=batch["input_ids"],
                token_type_ids=batch["token_type_ids"],
                attention_mask=batch["attention_mask"], labels=batch["labels"],
                output_hidden_states=True)
    logits, hidden = out.logits, out.hidden_states
    loss = out.loss
    if class_weights is not None:
        # transformers' token-classification loss has no class weights; this
        # is CrossEntropyLoss(weight=...) as a weighted Trainer subclass does.
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]),
                               batch["labels"].view(-1), weight=class_weights,
                               ignore_index=-100)
    for h in hidden:
        h.retain_grad()
    logits.retain_grad()
    loss.backward()
    return dict(
        loss=loss.detach().clone(), logits=logits.detach().clone(),
        hidden=[h.detach().clone() for h in hidden],
        grad_hidden=[h.grad.detach().clone() for h in hidden],
        grad_logits=logits.grad.detach().clone(),
        grads={n: p.grad.detach().clone() for n, p in model.named_parameters()})


def adamw_steps(model, batch, steps):
    """`steps` AdamW steps on the same batch, HF Trainer param groups, no
    gradient clipping, dropout off.  Returns per-step losses (before each
    update), the loss after the last update, and the final parameters."""
    groups, _, _ = trainer_param_groups(model, ADAMW["weight_decay"])
    opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"],
                            eps=ADAMW["eps"])
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        after = model(**batch).loss
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    return losses, after.item(), params


def model_case(model, batch):
    """Everything io.safetensors holds, for one copy of the model (run for
    the float32 model and again for a float64 copy)."""
    dtype = next(model.parameters()).dtype
    out = {}
    main = forward_backward(model, batch)
    out["logits"] = main["logits"]
    out["loss"] = main["loss"].reshape(1)
    out["grad.logits"] = main["grad_logits"]
    for i, (h, g) in enumerate(zip(main["hidden"], main["grad_hidden"])):
        out[f"hidden.{i}"] = h
        out[f"grad.hidden.{i}"] = g
    for n, g in main["grads"].items():
        out[f"grad.{n}"] = g
    out["grad_norm"] = torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(g) for g in main["grads"].values()])
    ).reshape(1)

    w = torch.tensor(CLASS_WEIGHTS, dtype=dtype)
    weighted = forward_backward(model, batch, class_weights=w)
    out["weighted.class_weights"] = w
    out["weighted.loss"] = weighted["loss"].reshape(1)
    out["weighted.grad.logits"] = weighted["grad_logits"]
    out["weighted.grad.classifier.weight"] = weighted["grads"]["classifier.weight"]
    out["weighted.grad.classifier.bias"] = weighted["grads"]["classifier.bias"]

    # Same weights, hidden_act "gelu_new" (tanh approximation).
    gn = forward_backward(with_hidden_act(model, "gelu_new"), batch)
    out["gelu_new.logits"] = gn["logits"]
    out["gelu_new.loss"] = gn["loss"].reshape(1)
    for i in range(1, len(gn["hidden"])):
        out[f"gelu_new.hidden.{i}"] = gn["hidden"][i]
    for n, g in gn["grads"].items():
        if ".intermediate.dense." in n or n.startswith("classifier."):
            out[f"gelu_new.grad.{n}"] = g

    losses, after, params = adamw_steps(copy.deepcopy(model), batch,
                                        ADAMW_STEPS)
    out["adamw.losses"] = torch.tensor(losses, dtype=dtype)
    out["adamw.loss_after"] = torch.tensor([after], dtype=dtype)
    for n, p in params.items():
        out[f"adamw3.{n}"] = p
    return out


# ---------------------------------------------------------------------------
# Op-level fixtures
# ---------------------------------------------------------------------------


def op_fixtures():
    g = torch.Generator().manual_seed(OPS_SEED)
    rnd = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
    out = {}

    def grads_of(fn, inputs, dy):
        leaves = [x.clone().requires_grad_(True) for x in inputs]
        y = fn(*leaves)
        y.backward(dy)
        return y.detach(), [x.grad.detach() for x in leaves]

    # LayerNorm over the last dim, eps 1e-12 (BERT), rows with offset/scale.
    x = rnd(4, 16) * torch.tensor([[0.5], [2.0], [10.0], [1e-2]]) + \
        torch.tensor([[0.0], [3.0], [-50.0], [1.0]])
    gamma, beta, dy = 1 + 0.1 * rnd(16), 0.1 * rnd(16), rnd(4, 16)
    y, (dx, dgamma, dbeta) = grads_of(
        lambda a, w, b: F.layer_norm(a, (16,), w, b, eps=1e-12),
        [x, gamma, beta], dy)
    out.update({"layer_norm.x": x, "layer_norm.weight": gamma,
                "layer_norm.bias": beta, "layer_norm.dy": dy,
                "layer_norm.y": y, "layer_norm.dx": dx,
                "layer_norm.dweight": dgamma, "layer_norm.dbias": dbeta})

    # Attention softmax: softmax(scores + HF extended mask) over keys.
    scores = rnd(2, 2, 3, 5) * 3
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.int64)
    # HF's additive encoder mask [B, 1, 1, Tk]: 0 attended, finfo.min masked
    # (BERT's eager attention adds this to every head's scores).
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    dy = rnd(2, 2, 3, 5)
    y, (dx,) = grads_of(lambda s: F.softmax(s + ext, dim=-1), [scores], dy)
    out.update({"softmax_masked.scores": scores,
                "softmax_masked.attention_mask": mask.to(torch.int32),
                "softmax_masked.dy": dy, "softmax_masked.y": y,
                "softmax_masked.dx": dx})

    # GELU, exact (erf) and tanh approximation ("gelu_new").
    x = torch.cat([torch.linspace(-8, 8, 33),
                   torch.tensor([-20.0, -5.5, -1e-3, 0.0, 1e-3, 5.5, 20.0])])
    dy = rnd(x.numel())
    y, (dx,) = grads_of(ACT2FN["gelu"], [x], dy)
    y2, (dx2,) = grads_of(ACT2FN["gelu_new"], [x], dy)
    out.update({"gelu.x": x, "gelu.dy": dy, "gelu.y": y, "gelu.dx": dx,
                "gelu_new.y": y2, "gelu_new.dx": dx2})

    # Cross-entropy, mean over non-ignored rows, with and without weights.
    logits = rnd(10, 5) * 2
    labels = torch.tensor([0, 4, -100, 2, 2, 1, -100, 3, 0, 4])
    weight = torch.tensor([0.5, 1.0, 2.0, 0.25, 1.5])
    loss, (dl,) = grads_of(
        lambda z: F.cross_entropy(z, labels, ignore_index=-100),
        [logits], torch.tensor(1.0))
    wloss, (dlw,) = grads_of(
        lambda z: F.cross_entropy(z, labels, weight=weight, ignore_index=-100),
        [logits], torch.tensor(1.0))
    all_ign = torch.full((10,), -100)
    nan_loss, (dnan,) = grads_of(
        lambda z: F.cross_entropy(z, all_ign, ignore_index=-100),
        [logits], torch.tensor(1.0))
    out.update({"cross_entropy.logits": logits,
                "cross_entropy.labels": labels.to(torch.int32),
                "cross_entropy.weight": weight,
                "cross_entropy.loss": loss.reshape(1),
                "cross_entropy.dlogits": dl,
                "cross_entropy.weighted_loss": wloss.reshape(1),
                "cross_entropy.weighted_dlogits": dlw,
                "cross_entropy.all_ignored_loss": nan_loss.reshape(1),
                "cross_entropy.all_ignored_dlogits": dnan})

    # Embedding backward: repeated ids accumulate, padding_idx row gets 0.
    table = rnd(6, 3)
    ids = torch.tensor([[1, 4, 4, 0], [2, 0, 4, 1]])
    dy = rnd(2, 4, 3)
    y, (dtable,) = grads_of(
        lambda w: F.embedding(ids, w, padding_idx=0), [table], dy)
    out.update({"embedding.weight": table,
                "embedding.ids": ids.to(torch.int32), "embedding.dy": dy,
                "embedding.y": y, "embedding.dweight": dtable})

    # AdamW: 3 steps on one parameter vector with given gradients (one
    # element always has gradient 0: only weight decay moves it).
    p0 = rnd(8)
    gs = rnd(3, 8) * torch.tensor([1, 1e-3, 10, 1, 1, 1e-6, 1, 0.0])
    for wd, key in ((0.01, "adamw"), (0.0, "adamw_nodecay")):
        p = p0.clone().requires_grad_(True)
        opt = torch.optim.AdamW([p], lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=wd)
        traj = []
        for s in range(3):
            p.grad = gs[s].clone()
            opt.step()
            traj.append(p.detach().clone())
        out[f"{key}.params"] = torch.stack(traj)
    out["adamw.param0"] = p0
    out["adamw.grads"] = gs

    # Global-norm gradient clipping as HF Trainer does (max_grad_norm 1.0):
    # every gradient scaled by max_norm / (total_norm + 1e-6) when larger.
    ga, gb = rnd(3, 4), rnd(5)
    pa = torch.zeros(3, 4, requires_grad=True)
    pb = torch.zeros(5, requires_grad=True)
    pa.grad, pb.grad = ga.clone(), gb.clone()
    total = torch.nn.utils.clip_grad_norm_([pa, pb], max_norm=1.0)
    out.update({"clip_grad_norm.grad_a": ga, "clip_grad_norm.grad_b": gb,
                "clip_grad_norm.total_norm": total.reshape(1),
                "clip_grad_norm.clipped_a": pa.grad.detach().clone(),
                "clip_grad_norm.clipped_b": pb.grad.detach().clone()})
    return out


# ---------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------


def error_rows(f32, f64):
    """Per tensor: max |f32 - f64| and that divided by max |f64|."""
    rows = []
    for name in sorted(f64):
        a, b = f32[name].double(), f64[name]
        if not a.is_floating_point() or name == "weighted.class_weights":
            continue
        diff = (a - b).abs().max().item()
        scale = b.abs().max().item()
        rows.append((name, diff, diff / scale if scale > 0 else float("nan"),
                     scale))
    return rows


def tensor_table(tensors):
    lines = ["| name | dtype | shape |", "|---|---|---|"]
    for n in sorted(tensors):
        t = tensors[n]
        lines.append(f"| `{n}` | {DTYPES[t.dtype][0]} | {list(t.shape)} |")
    return "\n".join(lines)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


TORCH_DESC = torch.__version__
TRANSFORMERS_DESC = transformers.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures"),
                    help="fixtures root (bert-tiny/ and ops/ are made in it)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # bitwise-reproducible reductions
    torch.use_deterministic_algorithms(True)

    model = build_model()
    batch = make_batch()
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    model64 = copy.deepcopy(model).double()

    res32 = model_case(model, batch)
    res64 = model_case(model64, batch)

    bdir = os.path.join(args.out, "bert-tiny")
    odir = os.path.join(args.out, "ops")
    os.makedirs(bdir, exist_ok=True)
    os.makedirs(odir, exist_ok=True)

    config_path = os.path.join(bdir, "config.json")
    model.config.to_json_file(config_path)  # what save_pretrained writes
    with open(config_path) as f:
        cfg = json.load(f)
    model_path = os.path.join(bdir, "model.safetensors")
    write_safetensors(model_path, params, {"format": "pt"})

    io = {k: v.to(torch.int32) for k, v in batch.items()}
    io.update(res32)
    io_meta = {
        "format": "pt", "torch_version": TORCH_DESC,
        "transformers_version": TRANSFORMERS_DESC,
        "special_token_ids": json.dumps({"pad": PAD, "unk": UNK, "cls": CLS,
                                         "sep": SEP}),
        "adamw": json.dumps({**ADAMW, "steps": ADAMW_STEPS,
                             "groups": "HF Trainer: no decay on biases and "
                                       "LayerNorm weights"}),
        "dropout": "off (eval) for every tensor, training steps included",
    }
    io_path = os.path.join(bdir, "io.safetensors")
    write_safetensors(io_path, io, io_meta)

    ops = op_fixtures()
    ops_path = os.path.join(odir, "ops.safetensors")
    write_safetensors(ops_path, ops, {"format": "pt",
                                      "torch_version": TORCH_DESC})

    # Read everything back with the independent reader and compare bitwise.
    for path, expected in ((model_path, params), (io_path, io),
                           (ops_path, ops)):
        got, _ = read_safetensors(path)
        if sorted(got) != sorted(expected):
            raise SystemExit(f"{path}: tensor names differ after read-back")
        for n, t in expected.items():
            if got[n].dtype != t.dtype or not torch.equal(
                    torch.nan_to_num(got[n]), torch.nan_to_num(t)):
                raise SystemExit(f"{path}: {n} differs after read-back")
    try:  # cross-check with the real safetensors package when present
        from safetensors.torch import load_file
        for path in (model_path, io_path, ops_path):
            load_file(path)
        print("safetensors package: files load")
    except ImportError:
        print("safetensors package not installed: checked with own reader only")

    errors = error_rows(res32, res64)
    check_adamw_conditioning(errors)
    _, decay_names, no_decay_names = trainer_param_groups(model, 0.01)
    write_bert_readme(bdir, cfg, params, io, errors, res32, no_decay_names,
                      decay_names)
    write_ops_readme(odir, ops)

    # Summary.
    print(f"torch {TORCH_DESC}, transformers {TRANSFORMERS_DESC}")
    for p in (os.path.join(bdir, "config.json"), model_path, io_path, ops_path):
        print(f"{os.path.relpath(p, REPO)}: {os.path.getsize(p)} bytes "
              f"sha256 {sha256(p)[:16]}")
    print(f"model: {len(params)} tensors, "
          f"{sum(t.numel() for t in params.values())} parameters")
    print(f"io: {len(io)} tensors; ops: {len(ops)} tensors")
    print(f"loss {res32['loss'].item():.6f}  weighted {res32['weighted.loss'].item():.6f}"
          f"  gelu_new {res32['gelu_new.loss'].item():.6f}  grad_norm "
          f"{res32['grad_norm'].item():.6f}")
    print("adamw losses", [round(x, 6) for x in res32["adamw.losses"].tolist()],
          "after", round(res32["adamw.loss_after"].item(), 6))
    worst = sorted(errors, key=lambda r: -r[2])[:5]
    print("largest float32-vs-float64 relative errors:")
    for n, d, r, s in worst:
        print(f"  {n}: abs {d:.2e} rel {r:.2e} (max|x| {s:.2e})")


def check_adamw_conditioning(errors):
    """Refuse a fixture whose float32 AdamW result torch itself does not
    determine: float32 vs float64 error of every `adamw3.*` tensor (key
    biases aside: their gradient is zero in theory, README) must stay 10x
    under the 1e-5 the tests use."""
    bad = [(n, r) for n, _, r, _ in errors if n.startswith("adamw3.")
           and not n.endswith("key.bias") and r > ADAMW_F32_MAX_REL]
    if bad:
        raise SystemExit(f"SEED {SEED}: float32 AdamW steps ill-conditioned "
                         f"(relative error {bad[0][1]:.1e} in {bad[0][0]} > "
                         f"{ADAMW_F32_MAX_REL:g}); pick another SEED")


def fmt_errors(rows, prefix=None, exclude=()):
    sel = [r for r in rows if (prefix is None or r[0].startswith(prefix))
           and not any(r[0].startswith(e) for e in exclude)]
    lines = ["| tensor | max abs err | / max abs | max abs value |",
             "|---|---|---|---|"]
    for n, d, r, s in sel:
        lines.append(f"| `{n}` | {d:.2e} | {r:.2e} | {s:.2e} |")
    return "\n".join(lines)


def write_bert_readme(bdir, cfg, params, io, errors, res32, no_decay, decay):
    n_params = sum(t.numel() for t in params.values())
    gnorm = res32['grad_norm'].item()
    clip_note = (f"global grad norm {gnorm:.4f}, so HF Trainer's default "
                 f"max_grad_norm=1.0 {'WOULD' if gnorm > 1.0 else 'would not'} "
                 f"clip the first step")
    kb_grad = max(r[1] for r in errors if r[0].startswith("grad.")
                  and r[0].endswith("key.bias"))
    kb_adam = max(r[1] for r in errors if r[0].startswith("adamw3.")
                  and r[0].endswith("key.bias"))
    losses = ", ".join(f"{x:.6f}" for x in res32["adamw.losses"].tolist())
    key_bias = [r for r in errors if r[0].startswith("grad.")
                and r[0].endswith("key.bias")]
    text = f"""# bert-tiny: PyTorch reference fixtures for BertForTokenClassification

Generated by `scripts/make-fixtures.py` with transformers' own `BertForTokenClassification`
(transformers {TRANSFORMERS_DESC}, eager attention, `output_hidden_states=True`) and torch {TORCH_DESC},
one thread. Regenerate from the repo root:

    "$(bash /work/shared/bench/hf-env.sh)" scripts/make-fixtures.py

Do not edit these files by hand; the TypeScript tests compare against them.

## Files

- `config.json`: HF-format config ({cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']},
  {cfg['num_attention_heads']} heads, intermediate {cfg['intermediate_size']}, vocab {cfg['vocab_size']},
  max positions {cfg['max_position_embeddings']}, type vocab {cfg['type_vocab_size']}, hidden_act "gelu"
  (exact erf), layer_norm_eps 1e-12, dropout 0.1 in the config, CoNLL id2label), written by
  transformers' `BertConfig.to_json_file` (as `save_pretrained` writes it: keys at their
  default value are left out).
- `model.safetensors`: the {len(params)} parameters ({n_params} values), all F32, HF names, Linear
  weights [out, in], no pooler, no `position_ids` buffer. `__metadata__` = {{"format": "pt"}}.
- `io.safetensors`: the batch and everything computed from it (below).

## Weights

Seed {SEED} (`torch.manual_seed`; chosen so that torch's own float32 and float64 AdamW steps agree to
{ADAMW_F32_MAX_REL:g} relative on every tensor but the key biases, see `scripts/make-fixtures.py`), then transformers' own init (`BertForTokenClassification(config)`): Linear/Embedding weights N(0, 0.02),
biases 0, LayerNorm 1/0, word-embedding row `pad_token_id` = 0 zeroed. Then, DELIBERATELY
UNLIKE HF (so that the fixture can catch more bugs), in module order with the same RNG stream:
every LayerNorm weight += N(0, {LN_WEIGHT_STD}), every LayerNorm bias = N(0, {LN_BIAS_STD}), every Linear
weight *= {LINEAR_WEIGHT_SCALE:g} (std 0.02 -> {0.02 * LINEAR_WEIGHT_SCALE:g}) and every Linear bias = N(0, {LINEAR_BIAS_STD}).
Why: HF's init leaves gamma/beta at 1/0 and biases at 0 (a kernel that drops them would pass),
and its std-0.02 weights make attention almost uniform, keep GELU inputs in the near-linear
region (erf and tanh GELU then agree to ~1e-7) and logits near 0. The padding row stays 0.
Embedding tables keep std 0.02. `config.json` still says initializer_range 0.02 (HF default;
it only matters for fresh initialisation).

## Batch (integer tensors stored as I32)

Special ids (vocab has no vocab.txt; ids are arbitrary): pad {PAD}, unk {UNK}, cls {CLS}, sep {SEP}
(also in `io.safetensors` `__metadata__.special_token_ids`). Batch 3, sequence length 12:

- row 0: 12 real tokens, no padding, token type 0, contains unk;
- row 1: sentence pair `[CLS] a a a [SEP] b b b [SEP]` + 3 pads; token_type_ids 1 on `b b b [SEP]`;
- row 2: 5 real tokens + 7 pads.

attention_mask is 1/0; labels are -100 at [CLS], [SEP], padding and continuation word pieces.
Padding positions still produce logits/hidden states (HF computes them; they are only masked
as attention keys and ignored in the loss): compare every position.

## Semantics (dropout OFF everywhere, i.e. eval mode, also for the AdamW steps)

- embeddings: LayerNorm((word[ids] + token_type[tt]) + position[0..T-1]), eps 1e-12.
- attention: scores = QK^T / sqrt(16) + (1 - mask) * finfo(float32).min, softmax over keys.
- FFN: dense -> GELU (erf) -> dense; both sublayers: LayerNorm(dense(x) + residual).
- classifier: Linear(64 -> 9) on the last hidden state.
- loss: CrossEntropyLoss() mean over positions with label != -100 on logits.view(-1, 9).
- `nn.Embedding(padding_idx=0)`: the gradient of word-embedding row 0 is always 0
  (torch skips the padding row in backward); HF BERT inherits that, so must we.

## io.safetensors tensors

- `input_ids`, `attention_mask`, `token_type_ids`, `labels`: I32 [3, 12].
- `logits` [3, 12, 9], `loss` [1]: forward of the model in model.safetensors.
- `hidden.0` = embeddings output (after LayerNorm), `hidden.i` = output of encoder layer i-1 [3, 12, 64].
- `grad.<param name>`: d loss / d parameter, same shape as the parameter, for every parameter.
- `grad.logits`, `grad.hidden.i`: d loss / d that activation (for localising backward bugs).
- `grad_norm` [1]: global L2 norm over all parameter gradients (what clip_grad_norm_ sees).
- `weighted.class_weights` [9]; `weighted.loss` [1], `weighted.grad.logits`,
  `weighted.grad.classifier.weight`, `weighted.grad.classifier.bias`: same model and batch with
  CrossEntropyLoss(weight=class_weights) applied to the model's logits (transformers' own loss has
  no class weights; weighted mean: sum w[y]*nll / sum w[y]).
- `gelu_new.*`: same weights (state dict loaded into a second BertForTokenClassification built with
  hidden_act "gelu_new": tanh approximation, HF NewGELUActivation):
  `gelu_new.logits`, `gelu_new.loss`, `gelu_new.hidden.1/2`, and grads of both
  `intermediate.dense` layers and the classifier (`gelu_new.grad.<param name>`).
- `adamw.losses` [{ADAMW_STEPS}]: loss at the start of each of {ADAMW_STEPS} AdamW steps on the same batch
  (the first equals `loss`); `adamw.loss_after` [1]: loss with the final parameters;
  `adamw3.<param name>`: every parameter after the {ADAMW_STEPS} steps. torch.optim.AdamW(lr={ADAMW['lr']},
  betas={ADAMW['betas']}, eps={ADAMW['eps']}), two groups from `Trainer.get_decay_parameter_names`: weight_decay
  {ADAMW['weight_decay']} on {len(decay)} tensors (all weights except LayerNorm weights, embeddings
  included), 0.0 on the {len(no_decay)} biases and LayerNorm weights. NO gradient clipping ({clip_note};
  clipping has its own op fixture in ../ops), no LR schedule, grads zeroed before each step. Losses: {losses}; after: {res32['adamw.loss_after'].item():.6f}.

Every float tensor is F32 and was computed in float32.

### Full list

{tensor_table(io)}

## float32 error (float32 result vs the same computation on a float64 copy of the weights)

Use these to choose test tolerances (an independent float32 implementation will differ from
torch by about as much as torch differs from float64).

NOTE on `attention.self.key.bias`: softmax is invariant to adding the same value to every score
of a query row, and the key bias adds exactly that (q . b_k), so its gradient is mathematically
ZERO; `grad.*.key.bias` holds rounding noise only (max |value| {max(r[3] for r in key_bias):.1e} in float64).
Compare it with an absolute tolerance (float32 noise here: up to {kb_grad:.1e}). Because AdamW
normalises the gradient, that noise still moves `adamw3.*.key.bias` by about
lr * |g| / (|g| + eps) per step, and float32 |g| is of the order of eps = 1e-8: the float32 and
float64 runs differ by {kb_adam:.1e} there (true change 0). Any implementation's key-bias values
after AdamW are therefore only determined to within steps * lr = {ADAMW_STEPS * ADAMW['lr']:g}; check them with
that absolute tolerance (or just check that the key bias moved by no more than that).

{fmt_errors(errors)}
"""
    with open(os.path.join(bdir, "README.md"), "w") as f:
        f.write(text)


def write_ops_readme(odir, ops):
    text = f"""# ops: single-op PyTorch reference fixtures

Generated by `scripts/make-fixtures.py` with torch {TORCH_DESC} and transformers {TRANSFORMERS_DESC}
(float32, one thread; GELUs from `transformers.activations.ACT2FN`):

    "$(bash /work/shared/bench/hf-env.sh)" scripts/make-fixtures.py

`ops.safetensors` (F32 unless listed as I32). Gradients are of `sum(y * dy)`, i.e. backward with
upstream gradient `dy`.

- `layer_norm.*`: `y = layer_norm(x, [16], weight, bias, eps=1e-12)` on rows of very different
  offset/scale; `dx`, `dweight`, `dbias` for upstream `dy`.
- `softmax_masked.*`: `y = softmax(scores + (1 - mask) * finfo(float32).min, dim=-1)`, scores
  [B=2, heads=2, Tq=3, Tk=5], `attention_mask` I32 [2, 5] broadcast as [B, 1, 1, Tk] (HF
  extended mask); `dx` for upstream `dy`. Masked entries of `y` are exactly 0.
- `gelu.*`: exact erf GELU `y`, `dx` on `x` (linspace(-8, 8, 33) plus -20, -5.5, -1e-3, 0,
  1e-3, 5.5, 20); `gelu_new.y`, `gelu_new.dx`: tanh approximation (HF "gelu_new") on the same
  `gelu.x`, `gelu.dy`.
- `cross_entropy.*`: `logits` [10, 5], `labels` I32 [10] with -100 at rows 2 and 6,
  `weight` [5]. `loss`/`dlogits`: mean over non-ignored rows; `weighted_loss`/`weighted_dlogits`:
  weighted mean sum(w[y] * nll) / sum(w[y]); `all_ignored_loss`/`all_ignored_dlogits`: every label
  -100: torch {torch.__version__} gives loss NaN (0/0) but all-zero gradients; recorded as a reference for
  what torch does, the project may define this case differently.
- `embedding.*`: `y = embedding(ids, weight, padding_idx=0)`, ids I32 [2, 4] with repeats and
  padding; `dweight` accumulates repeated ids and its row 0 is 0.
- `clip_grad_norm.*`: `torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)` on gradients
  `grad_a` [3, 4] and `grad_b` [5]: `total_norm` [1] (global L2 norm before clipping) and the
  clipped gradients `clipped_a`, `clipped_b` (scaled by 1.0 / (total_norm + 1e-6)).
- `adamw.*`: torch.optim.AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8) on `param0` [8] with
  gradients `grads[s]` at step s (3 steps; element 7 always has gradient 0, element 5 a tiny
  one): `adamw.params` [3, 8] = parameters after each step with weight_decay 0.01,
  `adamw_nodecay.params` with weight_decay 0.

{tensor_table(ops)}
"""
    with open(os.path.join(odir, "README.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
