#!/usr/bin/env python3
"""ModernBERT parity fixtures, made by transformers itself.

    /tmp/hfenv/bin/python scripts/make-modernbert-fixtures.py          (from the repo root)
    /tmp/hfenv/bin/python scripts/make-modernbert-fixtures.py --e2e-folder DIR --vocab VOCAB.txt
        a small random ModernBertModel (no head) saved by transformers into DIR with a WordPiece
        vocab.txt, for `tokentune train --model DIR` (not committed)
    /tmp/hfenv/bin/python scripts/make-modernbert-fixtures.py --check-ours DIR
        loads a folder that tokentune saved into transformers and prints the largest logit
        difference from the logits tokentune recorded in DIR/ours-logits.json

Writes test/fixtures/modernbert/
    nobias/      config.json + model.safetensors (ModernBertForTokenClassification.save_pretrained)
                 io.safetensors: batch, logits, loss, grad.<param>, adamw3.<param>, adamw.losses
    bias/        the same with every bias on (norm, attention, mlp, classifier) and tanh GELUs
    bare/        nobias's encoder alone (ModernBertModel) as pytorch_model.bin: no head.*, no classifier.*

Configs: 4 layers with global_attn_every_n_layers = 3 (layers 0 and 3 global, 1 and 2 sliding),
local_attention 6 (keys within 3 positions) on sequences of 12, so the window masks; a batch of
3 with padding.  Reference path: attn_implementation="sdpa" (transformers' default on CPU); the
script also checks that "eager" gives the same logits on real tokens.  Logits are compared on real
(non-padding) tokens only: padded query rows are discarded by the loss and the two paths differ there.
"""
import argparse
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import ModernBertConfig, ModernBertForTokenClassification, ModernBertModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "test", "fixtures", "modernbert")
SEED = 20261204
ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)


def config(bias):
    return ModernBertConfig(
        vocab_size=64, hidden_size=16, intermediate_size=24, num_hidden_layers=4, num_attention_heads=2,
        max_position_embeddings=64, global_attn_every_n_layers=3, local_attention=6,
        global_rope_theta=160000.0, local_rope_theta=10000.0,
        pad_token_id=0, bos_token_id=2, eos_token_id=3, cls_token_id=2, sep_token_id=3,
        norm_bias=bias, attention_bias=bias, mlp_bias=bias, classifier_bias=bias,
        hidden_activation="gelu_pytorch_tanh" if bias else "gelu",
        classifier_activation="gelu_pytorch_tanh" if bias else "gelu",
        id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()},
        attn_implementation="sdpa",
    )


def perturb(model, g):
    """HF init leaves norms at 1/0 and biases at 0 and gives nearly uniform attention: spread them."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
            elif name.endswith(".bias"):
                p.add_(torch.randn(p.shape, generator=g) * 0.02)
            elif p.dim() == 2 and "embeddings" not in name:
                p.mul_(6.0)


def batch(g):
    B, T = 3, 12
    lengths = [12, 9, 4]
    ids = torch.randint(4, 64, (B, T), generator=g)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
        ids[b, 0] = 2
        ids[b, n - 1] = 3
        ids[b, n:] = 0
    labels = torch.randint(0, len(ID2LABEL), (B, T), generator=g)
    labels[mask == 0] = -100
    labels[:, 0] = -100
    return ids, mask, labels


def hf_groups(model, wd):
    from transformers import Trainer  # noqa: F401  (same rule as the Trainer)
    from transformers.trainer_pt_utils import get_parameter_names
    pats = [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]
    decay = set(get_parameter_names(model, [torch.nn.LayerNorm], pats))
    ps = list(model.named_parameters())
    return [{"params": [p for n, p in ps if n in decay], "weight_decay": wd},
            {"params": [p for n, p in ps if n not in decay], "weight_decay": 0.0}]


def make(name, bias, g):
    torch.manual_seed(SEED + bias)
    cfg = config(bias)
    model = ModernBertForTokenClassification(cfg).eval()
    perturb(model, g)
    ids, mask, labels = batch(g)
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d)
    io = {"input_ids": ids.int(), "attention_mask": mask.int(), "labels": labels.int()}
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    io["logits"] = out.logits.detach().reshape(-1, len(ID2LABEL)).contiguous()
    io["loss"] = out.loss.detach().reshape(1)
    out.loss.backward()
    for n, p in model.named_parameters():
        io[f"grad.{n}"] = p.grad.detach().clone()
    # a window wider than the sequence: the sliding layers mask nothing (tokentune then takes its fused path)
    model.config.local_attention = 64
    with torch.no_grad():
        io["wide.logits"] = model(input_ids=ids, attention_mask=mask).logits.reshape(-1, len(ID2LABEL)).contiguous()
    model.config.local_attention = 6
    # eager must agree with sdpa on real tokens
    eager = ModernBertForTokenClassification.from_pretrained(d, attn_implementation="eager").eval()
    le = eager(input_ids=ids, attention_mask=mask).logits.detach().reshape(-1, len(ID2LABEL))
    real = mask.reshape(-1).bool()
    print(f"{name}: eager vs sdpa max |diff| on real tokens {(le[real] - io['logits'][real]).abs().max().item():.2e}")
    # three AdamW steps, HF Trainer's two groups
    m2 = ModernBertForTokenClassification.from_pretrained(d).eval()
    opt = torch.optim.AdamW(hf_groups(m2, ADAMW["weight_decay"]), lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = m2(input_ids=ids, attention_mask=mask, labels=labels).loss
        losses.append(loss.item())
        loss.backward()
        opt.step()
    io["adamw.losses"] = torch.tensor(losses)
    for n, p in m2.named_parameters():
        io[f"adamw3.{n}"] = p.detach().clone()
    # transformers' own fresh model: is the padding row of tok_embeddings zero after init?
    fresh = ModernBertForTokenClassification(cfg)
    print(f"{name}: fresh init padding row max |w| {fresh.model.embeddings.tok_embeddings.weight[0].abs().max().item():.3e}")
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(d, "io.safetensors"))
    return model


def check_ours(dir_):
    ours = json.load(open(os.path.join(dir_, "ours-logits.json")))
    model = ModernBertForTokenClassification.from_pretrained(dir_).eval()
    ids = torch.tensor(ours["input_ids"])
    mask = torch.tensor(ours["attention_mask"])
    logits = model(input_ids=ids, attention_mask=mask).logits.detach().reshape(-1, model.config.num_labels)
    real = mask.reshape(-1).bool()
    diff = (logits[real] - torch.tensor(ours["logits"]).reshape(logits.shape)[real]).abs().max().item()
    print(f"transformers loaded {dir_}: max |logit diff| vs tokentune on real tokens {diff:.3e}")
    return diff


def make_e2e(dir_, vocab):
    """A ModernBertModel of 4 layers (hidden 128, window +-16) over a WordPiece vocabulary; [PAD] must be id 0."""
    words = open(vocab, encoding="utf-8").read().split("\n")
    words = [w for w in words if w] if words[-1] == "" else words
    ids = {w: i for i, w in enumerate(words)}
    torch.manual_seed(SEED)
    cfg = ModernBertConfig(
        vocab_size=len(words), hidden_size=128, intermediate_size=192, num_hidden_layers=4, num_attention_heads=4,
        max_position_embeddings=512, global_attn_every_n_layers=3, local_attention=32,
        pad_token_id=ids["[PAD]"], cls_token_id=ids["[CLS]"], bos_token_id=ids["[CLS]"],
        sep_token_id=ids["[SEP]"], eos_token_id=ids["[SEP]"])
    ModernBertModel(cfg).save_pretrained(dir_)
    with open(os.path.join(dir_, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(words) + "\n")
    with open(os.path.join(dir_, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": False, "model_max_length": 512}, f)
    print("wrote", dir_, "vocab", len(words))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-ours")
    ap.add_argument("--e2e-folder")
    ap.add_argument("--vocab")
    a = ap.parse_args()
    if a.e2e_folder:
        make_e2e(a.e2e_folder, a.vocab)
        return
    if a.check_ours:
        sys.exit(0 if check_ours(a.check_ours) < 1e-5 else 1)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    nobias = make("nobias", False, g)
    make("bias", True, g)
    bare = os.path.join(OUT, "bare")
    # transformers 5 always writes safetensors: write the legacy torch.save file the way older versions did
    nobias.model.save_pretrained(bare)
    os.remove(os.path.join(bare, "model.safetensors"))
    torch.save({k: v.contiguous() for k, v in nobias.model.state_dict().items()}, os.path.join(bare, "pytorch_model.bin"))
    # the bare checkpoint must load back into transformers as ModernBertModel
    ModernBertModel.from_pretrained(bare)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
