#!/usr/bin/env python3
"""DeBERTa-v2 (the architecture DeBERTa-v3 uses) parity fixtures, made by transformers itself.

    /tmp/hfenv/bin/python scripts/make-deberta-fixtures.py            (from the repo root)
    /tmp/hfenv/bin/python scripts/make-deberta-fixtures.py --check-ours OURS_DIR REF_DIR

Writes test/fixtures/deberta-<case>/ for each case in CASES: config.json + model.safetensors as
DebertaV2ForTokenClassification.save_pretrained writes them, and io.safetensors with the batch,
logits, loss, every parameter gradient and the parameters after three torch.optim.AdamW steps
(HF Trainer's two groups). Case `v3` also gets `base/` (a bare DebertaV2Model, no head) and
`bin/` (the same classifier saved as pytorch_model.bin), and `buckets.safetensors` holds
transformers' log-bucket relative positions for several (position_buckets, max_relative_positions)
settings over sequence lengths up to 512.

--e2e-model DIR VOCAB writes a randomly initialised DeBERTa-v3-shaped model (hidden 128, 2 layers,
position_buckets 256, no token types) to DIR with transformers' save_pretrained and, until the
SentencePiece tokenizer lands, the WordPiece vocabulary VOCAB (vocab_size matches it): what the
end-to-end `tokentune train` check on WNUT-17 starts from. Nothing of it is committed.

--check-ours loads a folder that tokentune saved (OURS_DIR) with AutoModelForTokenClassification
and compares its logits on the fixture batch with the reference folder REF_DIR's io.safetensors.

Dropout is off (eval mode) for every recorded number; one thread, fixed seed.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file, load_file
from transformers import (AutoModelForTokenClassification, DebertaV2Config,
                          DebertaV2ForTokenClassification)
from transformers.models.deberta_v2.modeling_deberta_v2 import build_relative_position

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_perturb import perturb  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "test", "fixtures")
SEED = 20261204
ID2LABEL = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

COMMON = dict(vocab_size=100, hidden_size=16, num_attention_heads=4, intermediate_size=32,
              max_position_embeddings=64, hidden_act="gelu", hidden_dropout_prob=0.1,
              attention_probs_dropout_prob=0.1, layer_norm_eps=1e-7, initializer_range=0.02,
              pad_token_id=0, id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()})

# Each case exercises a different part of the disentangled attention.
CASES = {
    # DeBERTa-v3's settings, scaled down: log buckets (position_buckets 8 < seq 12), shared keys,
    # both c2p and p2c, LayerNorm on the relative embeddings, no absolute positions or token types.
    "v3": dict(num_hidden_layers=3, relative_attention=True, position_buckets=8,
               max_relative_positions=-1, share_att_key=True, pos_att_type=["p2c", "c2p"],
               norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0),
    # No buckets with a relative span (5) shorter than the sequence (clamping), separate
    # pos_key_proj/pos_query_proj, absolute positions, token types, embedding_size != hidden_size.
    "nobucket": dict(num_hidden_layers=2, relative_attention=True, position_buckets=0,
                     max_relative_positions=5, share_att_key=False, pos_att_type=["c2p", "p2c"],
                     norm_rel_ebd="none", position_biased_input=True, type_vocab_size=2,
                     embedding_size=12),
    # c2p only (scale sqrt(2d)), separate keys, buckets with an explicit max_relative_positions,
    # tanh GELU.
    "c2p": dict(num_hidden_layers=2, relative_attention=True, position_buckets=4,
                max_relative_positions=20, share_att_key=False, pos_att_type=["c2p"],
                norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0,
                hidden_act="gelu_new"),
    # p2c only with shared keys.
    "p2c": dict(num_hidden_layers=2, relative_attention=True, position_buckets=6,
                max_relative_positions=32, share_att_key=True, pos_att_type=["p2c"],
                norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0),
}


def batch():
    ids = [[1, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 2],
           [1, 41, 42, 43, 2, 55, 56, 57, 2, 0, 0, 0],
           [1, 71, 72, 99, 2, 0, 0, 0, 0, 0, 0, 0]]
    mask = [[1] * 12, [1] * 9 + [0] * 3, [1] * 5 + [0] * 7]
    types = [[0] * 12, [0] * 5 + [1] * 4 + [0] * 3, [0] * 12]
    X = -100
    labels = [[X, 1, 2, 0, 0, 3, 4, 0, X, 1, 0, X],
              [X, 3, 4, 0, X, 1, 2, 0, X, X, X, X],
              [X, 1, X, 0, X, X, X, X, X, X, X, X]]
    t = lambda x: torch.tensor(x, dtype=torch.int64)  # noqa: E731
    return dict(input_ids=t(ids), attention_mask=t(mask), token_type_ids=t(types), labels=t(labels))


def run(model, b, with_types):
    kw = dict(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"])
    if with_types:
        kw["token_type_ids"] = b["token_type_ids"]
    return model(**kw)


def param_groups(model):
    no_decay_mods = {n for n, m in model.named_modules() if isinstance(m, torch.nn.LayerNorm)}
    decay, no = [], []
    for n, p in model.named_parameters():
        (no if n.endswith("bias") or n.rsplit(".", 1)[0] in no_decay_mods else decay).append(p)
    return [{"params": decay, "weight_decay": ADAMW["weight_decay"]}, {"params": no, "weight_decay": 0.0}]


def make_case(name, fields):
    torch.manual_seed(SEED)
    cfg = DebertaV2Config(**{**COMMON, **fields})
    model = DebertaV2ForTokenClassification(cfg)
    perturb(model, 20.0)  # std 0.4: relative embeddings that matter
    model.eval()
    out_dir = os.path.join(FIX, f"deberta-{name}")
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir)
    b = batch()
    with_types = cfg.type_vocab_size > 0
    io = {k: v.to(torch.int32) for k, v in b.items()}
    model.zero_grad(set_to_none=True)
    o = run(model, b, with_types)
    o.loss.backward()
    io["logits"] = o.logits.detach().clone()
    io["loss"] = o.loss.detach().reshape(1).clone()
    for n, p in model.named_parameters():
        io[f"grad.{n}"] = p.grad.detach().clone()
    # Three AdamW steps on the same batch, dropout off.
    opt = torch.optim.AdamW(param_groups(model), lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    losses = []
    for _ in range(3):
        opt.zero_grad(set_to_none=True)
        loss = run(model, b, with_types).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    io["adamw.losses"] = torch.tensor(losses)
    for n, p in model.named_parameters():
        io[f"adamw3.{n}"] = p.detach().clone()
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(out_dir, "io.safetensors"))
    print(f"deberta-{name}: loss {io['loss'].item():.6f}, {sum(1 for _ in model.parameters())} parameters")
    return cfg


def make_variants(cfg):
    """v3 saved as a bare base model and as pytorch_model.bin (same seed, same weights)."""
    torch.manual_seed(SEED)
    model = DebertaV2ForTokenClassification(cfg)
    perturb(model, 20.0)  # std 0.4: relative embeddings that matter
    model.eval()
    model.deberta.save_pretrained(os.path.join(FIX, "deberta-v3", "base"))
    # transformers 5 writes only safetensors; pytorch_model.bin is what older versions wrote
    # (torch.save of the state dict, HF names).
    bin_dir = os.path.join(FIX, "deberta-v3", "bin")
    os.makedirs(bin_dir, exist_ok=True)
    cfg.to_json_file(os.path.join(bin_dir, "config.json"))
    torch.save(model.state_dict(), os.path.join(bin_dir, "pytorch_model.bin"))


def make_buckets():
    """transformers' relative positions q - k (bucketed) for query 0 against every key, and for
    every query against key 0, which together give every difference in (-T, T)."""
    out = {}
    for buckets, max_pos in [(256, 512), (8, 64), (4, 20), (6, 32), (16, 48), (32, 100)]:
        T = 512
        x = torch.zeros(1, T, 1)
        rel = build_relative_position(x, x, bucket_size=buckets, max_position=max_pos)[0]
        # Differences -(T-1)..(T-1): row 0 gives 0, -1, ..., -(T-1); column 0 gives 0..T-1.
        diffs = torch.cat([rel[0, 1:].flip(0), rel[:, 0]])
        out[f"b{buckets}_m{max_pos}"] = diffs.to(torch.int32).contiguous()
    save_file(out, os.path.join(FIX, "deberta-buckets.safetensors"))


def check_ours(ours, ref):
    io = load_file(os.path.join(ref, "io.safetensors"))
    model = AutoModelForTokenClassification.from_pretrained(ours).eval()
    kw = dict(input_ids=io["input_ids"].long(), attention_mask=io["attention_mask"].long())
    if model.config.type_vocab_size > 0:
        kw["token_type_ids"] = io["token_type_ids"].long()
    with torch.no_grad():
        logits = model(**kw).logits
    diff = (logits - io["logits"]).abs().max().item()
    print(f"{ours}: {type(model).__name__} loaded by transformers; max |logits - reference| = {diff:.3e}")
    if diff > 1e-5:
        sys.exit(1)


def make_e2e_model(out, vocab):
    import shutil
    with open(vocab, encoding="utf-8") as f:
        n = sum(1 for _ in f)
    torch.manual_seed(SEED)
    cfg = DebertaV2Config(vocab_size=n, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=256, max_position_embeddings=512, relative_attention=True,
                          position_buckets=256, share_att_key=True, pos_att_type=["p2c", "c2p"],
                          norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0,
                          layer_norm_eps=1e-7, pad_token_id=0)
    DebertaV2ForTokenClassification(cfg).save_pretrained(out)
    shutil.copy(vocab, os.path.join(out, "vocab.txt"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": False, "model_max_length": 512}, f)
    print(f"{out}: DebertaV2ForTokenClassification, vocab {n}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 4 and sys.argv[1] == "--e2e-model":
        make_e2e_model(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--check-ours":
        check_ours(sys.argv[2], sys.argv[3])
        sys.exit(0)
    cfgs = {name: make_case(name, fields) for name, fields in CASES.items()}
    make_variants(cfgs["v3"])
    make_buckets()
