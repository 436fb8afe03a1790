#!/usr/bin/env python3
"""Parity fixtures for RoBERTa, XLM-RoBERTa and DistilBERT, made by transformers itself.

    /tmp/hfenv/bin/python scripts/make-encoder-fixtures.py            (from the repo root)
    /tmp/hfenv/bin/python scripts/make-encoder-fixtures.py --check-ours
        (after `npm run build`: tokentune saves each fixture model with savePretrained, and
         transformers' AutoModelForTokenClassification must load that folder and give the
         logits tokentune computed)

For each model type, a small random config (3 layers, hidden 16, 4 heads) is built with
transformers' own config class and *ForTokenClassification (eager attention), its weights
perturbed (see PERTURB below), and the folder written by save_pretrained:

    test/fixtures/roberta-tiny/      config.json, model.safetensors     (save_pretrained)
    test/fixtures/xlm-roberta-tiny/  config.json, pytorch_model.bin     (torch.save of the state
                                     dict, the pre-safetensors layout; transformers 5 writes
                                     safetensors only, and this script checks it loads the .bin)
    test/fixtures/distilbert-tiny/   config.json, model.safetensors
    test/fixtures/roberta-bare/      a RobertaModel (no head, with pooler) as save_pretrained writes it
    test/fixtures/distilbert-bare/   a DistilBertModel (no head)
    test/fixtures/<type>-tiny/io.safetensors: the batch (with padding), logits, loss, every
        parameter gradient (grad.<name>), the loss before each of 3 torch.optim.AdamW steps
        (adamw.losses) and every parameter after them (adamw3.<name>); roberta also
        position_ids (create_position_ids_from_input_ids), distilbert also the
        sinusoidal position table (sinusoidal.table) of create_sinusoidal_embeddings.

AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on the parameters
Trainer.get_decay_parameter_names picks (the Trainer's two groups), no clipping, dropout off.
Runs with one thread: regenerating on the same torch build gives the same tensor values (the
files' headers may list them in another order).
"""

import argparse
import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

import transformers
from transformers import (AutoModelForTokenClassification, DistilBertConfig, DistilBertForTokenClassification,
                          DistilBertModel, RobertaConfig, RobertaForTokenClassification, RobertaModel, Trainer,
                          XLMRobertaConfig, XLMRobertaForTokenClassification)
from transformers.models.distilbert.modeling_distilbert import create_sinusoidal_embeddings
from transformers.models.roberta.modeling_roberta import RobertaEmbeddings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_perturb import perturb  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "test", "fixtures")
SEED = 20261204
ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
STEPS = 3
# PERTURB: fixture_perturb.perturb with embedding tables *= 5, so positions matter as much as words.
SMALL = dict(vocab_size=100, hidden_size=16, num_hidden_layers=3, num_attention_heads=4, intermediate_size=32,
             max_position_embeddings=40, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)


def make_batch(pad, first_id):
    """3 rows of 10: no padding; 3 pads; 6 pads. Labels -100 at specials, pads and one sub-word."""
    g = torch.Generator().manual_seed(SEED + 1)
    ids = torch.randint(first_id, SMALL["vocab_size"], (3, 10), generator=g)
    lengths = [10, 7, 4]
    mask = torch.zeros(3, 10, dtype=torch.long)
    labels = torch.randint(0, len(ID2LABEL), (3, 10), generator=g)
    for r, n in enumerate(lengths):
        mask[r, :n] = 1
        ids[r, n:] = pad
        labels[r, n:] = -100
        labels[r, 0] = labels[r, n - 1] = -100
    labels[0, 4] = -100
    return dict(input_ids=ids, attention_mask=mask, labels=labels)


def forward(model, batch):
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])


def record(model, batch):
    out = {k: v.to(torch.int32) for k, v in batch.items()}
    model.zero_grad(set_to_none=True)
    res = forward(model, batch)
    res.loss.backward()
    out["logits"] = res.logits.detach().clone()
    out["loss"] = res.loss.detach().reshape(1)
    for n, p in model.named_parameters():
        out[f"grad.{n}"] = p.grad.detach().clone()
    # Three AdamW steps with the Trainer's parameter groups.
    decay = set(Trainer.get_decay_parameter_names(None, model))
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if n in decay], "weight_decay": ADAMW["weight_decay"]},
              {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = forward(model, batch).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out["adamw.losses"] = torch.tensor(losses)
    for n, p in model.named_parameters():
        out[f"adamw3.{n}"] = p.detach().clone()
    return out, sorted(decay)


def save_io(name, tensors):
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(FIX, name, "io.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__})


def check_reload(cls, folder, model, batch):
    """transformers loads the folder back and predicts the same."""
    again = cls.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        a, b = forward(model, batch).logits, forward(again, batch).logits
    assert torch.equal(a, b), f"{folder}: reloaded logits differ"


def roberta_like(kind):
    torch.manual_seed(SEED)
    cfg_cls, cls = (RobertaConfig, RobertaForTokenClassification) if kind == "roberta" else \
        (XLMRobertaConfig, XLMRobertaForTokenClassification)
    cfg = cfg_cls(**SMALL, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                  id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()}, attn_implementation="eager")
    model = perturb(cls(cfg), 5.0).eval()
    folder = os.path.join(FIX, f"{kind}-tiny")
    os.makedirs(folder, exist_ok=True)
    batch = make_batch(pad=1, first_id=3)
    batch["input_ids"][:, 0] = 0  # <s>
    if kind == "roberta":
        model.save_pretrained(folder)
    else:
        # The legacy layout: config.json + torch.save(state_dict) as pytorch_model.bin.
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), os.path.join(folder, "pytorch_model.bin"))
    check_reload(cls, folder, model, batch)
    out, decay = record(model, batch)
    if kind == "roberta":
        out["position_ids"] = RobertaEmbeddings.create_position_ids_from_input_ids(batch["input_ids"], 1).to(torch.int32)
    save_io(f"{kind}-tiny", out)
    return decay


def distilbert():
    torch.manual_seed(SEED + 2)
    cfg = DistilBertConfig(vocab_size=100, dim=16, n_layers=3, n_heads=4, hidden_dim=32, max_position_embeddings=40,
                           dropout=0.1, attention_dropout=0.1, activation="gelu", pad_token_id=0,
                           id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()}, attn_implementation="eager")
    model = perturb(DistilBertForTokenClassification(cfg), 5.0).eval()
    folder = os.path.join(FIX, "distilbert-tiny")
    model.save_pretrained(folder)
    batch = make_batch(pad=0, first_id=1)
    check_reload(DistilBertForTokenClassification, folder, model, batch)
    out, decay = record(model, batch)
    out["sinusoidal.table"] = create_sinusoidal_embeddings(40, 16, torch.empty(40, 16))
    save_io("distilbert-tiny", out)
    return decay


def bare_models():
    """Base models without a head, as save_pretrained writes them (2 layers to stay small)."""
    torch.manual_seed(SEED + 3)
    small = dict(SMALL, num_hidden_layers=2)
    rb = RobertaModel(RobertaConfig(**small, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1))
    rb.save_pretrained(os.path.join(FIX, "roberta-bare"))
    db = DistilBertModel(DistilBertConfig(vocab_size=100, dim=16, n_layers=2, n_heads=4, hidden_dim=32,
                                          max_position_embeddings=40))
    db.save_pretrained(os.path.join(FIX, "distilbert-bare"))
    return {name: sorted(load_file(os.path.join(FIX, name, "model.safetensors")).keys())
            for name in ["roberta-bare", "distilbert-bare"]}


def check_ours():
    """tokentune saves each fixture model; transformers must load it and give tokentune's logits."""
    out_dir = os.path.join(REPO, "dist", "hf-check")
    node = f"""
import {{ loadModelFromDir, savePretrained, noGrad, Tensor }} from '{REPO}/dist/src/index.js';
import {{ readSafetensors }} from '{REPO}/dist/src/io/safetensors.js';
import {{ writeFileSync }} from 'node:fs';
const result = {{}};
for (const kind of ['roberta', 'xlm-roberta', 'distilbert']) {{
  const {{ model }} = loadModelFromDir('{FIX}/' + kind + '-tiny');
  savePretrained(model, '{out_dir}/' + kind);
  const io = readSafetensors('{FIX}/' + kind + '-tiny/io.safetensors').tensors;
  const [B, T] = io.get('input_ids').shape;
  const logits = noGrad(() => model.forward({{ inputIds: io.get('input_ids').data, attentionMask: io.get('attention_mask').data, batchSize: B, seqLen: T }}, {{ training: false }}));
  result[kind] = Array.from(logits.f);
}}
writeFileSync('{out_dir}/logits.json', JSON.stringify(result));
"""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["node", "--input-type=module", "-e", node], check=True, cwd=REPO)
    ours = json.load(open(os.path.join(out_dir, "logits.json")))
    for kind in ["roberta", "xlm-roberta", "distilbert"]:
        folder = os.path.join(out_dir, kind)
        cfg = json.load(open(os.path.join(folder, "config.json")))
        model = AutoModelForTokenClassification.from_pretrained(folder, attn_implementation="eager").eval()
        io = load_file(os.path.join(FIX, f"{kind}-tiny", "io.safetensors"))
        batch = {k: io[k].long() for k in ["input_ids", "attention_mask", "labels"]}
        with torch.no_grad():
            theirs = forward(model, batch).logits.reshape(-1)
        mine = torch.tensor(ours[kind])
        diff = (theirs - mine).abs().max().item()
        same = torch.equal(theirs, mine)
        print(f"{kind}: {type(model).__name__} (architectures {cfg['architectures']}) loaded tokentune's folder; "
              f"max |logit difference| {diff:.3g}{' (bit-identical)' if same else ''}")
        assert diff <= 1e-5 * max(1.0, theirs.abs().max().item()), kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-ours", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.check_ours:
        check_ours()
        return
    decay = {k: roberta_like(k) for k in ["roberta", "xlm-roberta"]}
    decay["distilbert"] = distilbert()
    bare = bare_models()
    with open(os.path.join(FIX, "encoders-README.md"), "w") as f:
        f.write(__doc__.replace("\n\n", "\n\n", 1))
        f.write(f"\nMade with transformers {transformers.__version__}, torch {torch.__version__}.\n")
        for k, names in decay.items():
            f.write(f"\n{k}: weight decay on {len(names)} tensors: {', '.join(names)}\n")
        for k, names in bare.items():
            f.write(f"\n{k} tensors: {', '.join(names)}\n")


if __name__ == "__main__":
    main()
