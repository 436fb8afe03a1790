#!/usr/bin/env python3
"""Print Hugging Face BertTokenizerFast outputs as JSON in the format of test/fixtures/tokenizer-hf.json.

Not run by tests or CI. Needs `pip install transformers tokenizers` and ../shared/models next to the
repository (bert-base-cased-vocab, bert-base-uncased-vocab).

    python3 scripts/tokenizer-check.py > /tmp/tokenizer-hf.json
    mv /tmp/tokenizer-hf.json test/fixtures/tokenizer-hf.json   # then: node --test dist/test/tokenizer-hf-fixture.test.js

The inputs are every case of the existing fixture (written by src/tokenizers/tools/gen-hf-fixture.mjs
from HF's Rust library), re-derived here with Python transformers, plus `decoded` / `decoded_skip`
(decode with transformers' clean_up_tokenization), which the TS test then also checks. Without a
fixture it uses the small built-in list below. Offsets are Python string (code point) indices.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

BUILTIN_TEXTS = [
    "Hello, world!",
    "My name is Sylvain and I work at Hugging Face in Brooklyn.",
    "unaffable",
    "Café naïve Zürich",
    "北京大学",
    "x😀y 👍🏽",
    "https://t.co/abc?x=1 @user #hashtag",
    "a" * 101,
    "ab\u0000cd\u200bef\ufeff!\tgo\r\nnow",
    "Hi [MASK] there",
    "İstanbul ΟΔΟΣ 한국어",
    "I don't think it's a U.S. thing, is it?",
]
BUILTIN_WORDS = [
    ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
    ["John", "Johanson", "'s", "house"],
    ["U.S.", "", " ", "New York", "@user", "#tag", "😀", "[MASK]"],
]


def make_tokenizer(spec, shared, tmpdir, name):
    from transformers import BertTokenizerFast, PreTrainedTokenizerFast

    if "tokenizer_json" in spec:
        path = os.path.join(tmpdir, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(spec["tokenizer_json"])
        # Plain fast tokenizer: BertTokenizerFast would re-apply its do_lower_case default.
        return PreTrainedTokenizerFast(
            tokenizer_file=path, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
            pad_token="[PAD]", mask_token="[MASK]",
        )
    return BertTokenizerFast(
        vocab_file=os.path.join(shared, spec["vocab"]),
        do_lower_case=spec["do_lower_case"],
        strip_accents=spec.get("strip_accents"),
    )


def run_case(tok, case):
    if case.get("words") is not None:
        enc = tok(case["words"], is_split_into_words=True, return_offsets_mapping=True, return_special_tokens_mask=True)
    else:
        enc = tok(case["text"], return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = enc["input_ids"]
    out = {k: v for k, v in case.items() if k in ("tokenizer", "text", "words")}
    out.update(
        ids=ids,
        tokens=enc.tokens(),
        offsets=[list(o) for o in enc["offset_mapping"]],
        word_ids=enc.word_ids(),
        special_tokens_mask=enc["special_tokens_mask"],
        decoded_raw=tok.decode(ids, clean_up_tokenization_spaces=False),
        decoded_raw_skip=tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False),
        decoded=tok.decode(ids, clean_up_tokenization_spaces=True),
        decoded_skip=tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True),
    )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixture", default=os.path.join(REPO, "test", "fixtures", "tokenizer-hf.json"),
                    help="existing fixture whose cases to re-derive (built-in list if missing)")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared", "models"))
    args = ap.parse_args()

    import tokenizers
    import transformers

    if os.path.exists(args.fixture):
        with open(args.fixture, encoding="utf-8") as f:
            old = json.load(f)
        specs, cases = old["tokenizers"], old["cases"]
    else:
        specs = {
            "cased": {"vocab": "bert-base-cased-vocab/vocab.txt", "do_lower_case": False, "strip_accents": None},
            "uncased": {"vocab": "bert-base-uncased-vocab/vocab.txt", "do_lower_case": True, "strip_accents": None},
        }
        cases = [{"tokenizer": t, "text": s} for s in BUILTIN_TEXTS for t in specs]
        cases += [{"tokenizer": t, "words": w} for w in BUILTIN_WORDS for t in specs]

    with tempfile.TemporaryDirectory() as tmpdir:
        toks = {name: make_tokenizer(spec, args.shared, tmpdir, name) for name, spec in specs.items()}
        out_cases = [run_case(toks[c["tokenizer"]], c) for c in cases]

    json.dump({
        "generator": f"Python transformers {transformers.__version__} BertTokenizerFast "
                     f"(tokenizers {tokenizers.__version__}) via scripts/tokenizer-check.py",
        "note": "offsets are code-point indices; decoded_raw = decode(clean_up_tokenization_spaces=False)",
        "tokenizers": specs,
        "cases": out_cases,
    }, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
