"""Tiny model folders shaped like the real roberta-base, xlm-roberta-base, distilbert-base-uncased
microsoft/deberta-v3-base and answerdotai/ModernBERT-base, for the end-to-end test (test/encoders-real-tokenizers.test.ts),
and transformers' own pipeline outputs on them.

    /tmp/hfenv/bin/python scripts/make-e2e-models.py              # writes test/fixtures/e2e/
    /tmp/hfenv/bin/python scripts/make-e2e-models.py --check DIR  # DIR: a folder `tokentune train`
        wrote; transformers loads it (AutoModelForTokenClassification + AutoTokenizer) and its
        pipeline must give the entities `tokentune predict` gives for TEXTS.

Tokenizers: reused from test/fixtures/tokenizers (scripts/make-tokenizer-fixtures.py trained them
on WNUT-17 text): byte-level BPE trained with `tokenizers` (roberta; modernbert, shaped like
ModernBERT-base's: NFC, [CLS]/[SEP] template, no prefix space), SentencePiece Unigram models
converted by transformers (xlmr-legacy, deberta-legacy), WordPiece (wordpiece, uncased). Each
folder holds the tokenizer files its real counterpart ships (hub listing in brackets):
    roberta      vocab.json, merges.txt, tokenizer.json          [roberta-base]
    xlm-roberta  sentencepiece.bpe.model, tokenizer.json         [xlm-roberta-base]
    distilbert   vocab.txt, tokenizer.json, tokenizer_config.json [distilbert-base-uncased]
    deberta-v3   spm.model, tokenizer_config.json                [microsoft/deberta-v3-base]
    modernbert   tokenizer.json, tokenizer_config.json           [answerdotai/ModernBERT-base]
tokenizer.json / tokenizer_config.json as transformers' save_pretrained writes them.
Models: *ForTokenClassification from a small config built by transformers (2 layers, hidden 8),
ModernBERT with one global and one sliding-window layer (window 8, shorter than the texts),
random weights (initializer_range 0.3 so the random head's labels are clear-cut), saved with
save_pretrained. Head labels are CoNLL's PER/LOC, not WNUT-17's: fine-tuning on WNUT-17 replaces
the head, as with a real checkpoint.
"""
import argparse, base64, gzip, json, os, shutil, subprocess, sys, tempfile

import torch
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DebertaV2Config, DebertaV2ForTokenClassification,
                          DistilBertConfig, DistilBertForTokenClassification, ModernBertConfig,
                          ModernBertForTokenClassification, RobertaConfig, RobertaForTokenClassification,
                          XLMRobertaConfig, XLMRobertaForTokenClassification, pipeline)
import transformers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
TOKS = os.path.join(ROOT, 'test', 'fixtures', 'tokenizers')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'e2e')
LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
MAX_POS = 256
# Raw texts for predict: case, punctuation, runs of spaces, accents, an emoji, a hashtag, a URL.
TEXTS = [
    'Peter Blackburn visited Paris with @john_doe on Monday.',
    "  Apple's new iPhone   costs $999 in New York!  ",
    'Café Müller in São Paulo, 2 nights 😀 #travel http://t.co/x1',
    "i'm watching the walking dead on netflix lol",
]
STRATEGIES = ['none', 'first']  # per token (raw offsets) and per word (what predict does by default)


def unpack(name, d, keep_json):
    """Writes a tokenizer fixture's files into d (the SentencePiece model decoded from base64)."""
    files = json.load(gzip.open(os.path.join(TOKS, name + '.json.gz')))['files']
    os.makedirs(d, exist_ok=True)
    for fn, text in files.items():
        if fn.endswith('.b64'):
            with open(os.path.join(d, fn[:-4]), 'wb') as f: f.write(base64.b64decode(text))
        elif keep_json or fn != 'tokenizer.json':
            with open(os.path.join(d, fn), 'w', encoding='utf-8') as f: f.write(text)


def bpe_legacy_files(tok_json, d):
    """vocab.json + merges.txt as roberta-base ships them beside tokenizer.json (same vocab and merges)."""
    m = json.loads(tok_json)['model']
    with open(os.path.join(d, 'vocab.json'), 'w', encoding='utf-8') as f:
        json.dump(m['vocab'], f, ensure_ascii=False)
    merges = [' '.join(x) if isinstance(x, list) else x for x in m['merges']]
    with open(os.path.join(d, 'merges.txt'), 'w', encoding='utf-8') as f:
        f.write('#version: 0.2\n' + '\n'.join(merges) + '\n')


def small(cls, **kw):
    id2label = dict(enumerate(LABELS))
    return cls(id2label=id2label, label2id={l: i for i, l in id2label.items()}, initializer_range=0.3, **kw)


def build(kind, work):
    """(model, tokenizer, files to keep from the tokenizer's save_pretrained, extra files)."""
    src = os.path.join(work, kind + '-src')
    common = dict(hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16)
    if kind == 'roberta':
        unpack('roberta', src, True)
        tok = AutoTokenizer.from_pretrained(src)
        cfg = small(RobertaConfig, vocab_size=len(tok), max_position_embeddings=MAX_POS + 2, pad_token_id=tok.pad_token_id,
                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **common)
        model, keep = RobertaForTokenClassification(cfg), ['tokenizer.json']
    elif kind == 'xlm-roberta':
        unpack('xlmr-legacy', src, False)
        tok = AutoTokenizer.from_pretrained(src)
        cfg = small(XLMRobertaConfig, vocab_size=len(tok), max_position_embeddings=MAX_POS + 2, pad_token_id=tok.pad_token_id,
                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **common)
        model, keep = XLMRobertaForTokenClassification(cfg), ['tokenizer.json']
    elif kind == 'distilbert':
        unpack('wordpiece', src, True)
        tok = AutoTokenizer.from_pretrained(src)
        cfg = small(DistilBertConfig, vocab_size=len(tok), max_position_embeddings=MAX_POS, pad_token_id=tok.pad_token_id,
                    dim=8, n_layers=2, n_heads=2, hidden_dim=16)
        model, keep = DistilBertForTokenClassification(cfg), ['tokenizer.json', 'tokenizer_config.json']
    elif kind == 'deberta-v3':
        unpack('deberta-legacy', src, False)
        tok = AutoTokenizer.from_pretrained(src)
        # deberta-v3-base's settings, scaled down: relative attention with log buckets, shared keys.
        cfg = small(DebertaV2Config, vocab_size=len(tok), max_position_embeddings=MAX_POS, pad_token_id=tok.pad_token_id,
                    relative_attention=True, position_buckets=16, max_relative_positions=-1, pos_att_type=['p2c', 'c2p'],
                    norm_rel_ebd='layer_norm', share_att_key=True, position_biased_input=False, type_vocab_size=0,
                    layer_norm_eps=1e-7, hidden_act='gelu', **common)
        model, keep = DebertaV2ForTokenClassification(cfg), ['tokenizer_config.json']
    elif kind == 'modernbert':
        unpack('modernbert', src, True)
        tok = AutoTokenizer.from_pretrained(src)
        # ModernBERT-base's settings, scaled down: layer 0 global, layer 1 sliding (window 8 < the
        # texts' lengths, so the two attention kinds differ), separate rotary bases, no biases.
        cfg = small(ModernBertConfig, vocab_size=len(tok), max_position_embeddings=MAX_POS, pad_token_id=tok.pad_token_id,
                    bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id, cls_token_id=tok.cls_token_id,
                    sep_token_id=tok.sep_token_id, global_attn_every_n_layers=2, local_attention=8,
                    global_rope_theta=160000.0, local_rope_theta=10000.0, **common)
        assert cfg.layer_types == ['full_attention', 'sliding_attention'], cfg.layer_types
        model, keep = ModernBertForTokenClassification(cfg), ['tokenizer.json', 'tokenizer_config.json']
    else:
        raise ValueError(kind)
    tok.model_max_length = MAX_POS
    return model.eval(), tok, keep, src


def write_folder(kind, work):
    model, tok, keep, src = build(kind, work)
    d = os.path.join(OUT, kind)
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d)
    saved = os.path.join(work, kind + '-tok')
    tok.save_pretrained(saved)
    for fn in keep:
        shutil.copy(os.path.join(saved, fn), d)
    if kind == 'roberta':
        with open(os.path.join(saved, 'tokenizer.json'), encoding='utf-8') as f: bpe_legacy_files(f.read(), d)
    elif kind == 'xlm-roberta':
        shutil.copy(os.path.join(src, 'sentencepiece.bpe.model'), d)
    elif kind == 'distilbert':
        vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
        assert [i for _, i in vocab] == list(range(len(vocab)))
        with open(os.path.join(d, 'vocab.txt'), 'w', encoding='utf-8') as f: f.write(''.join(t + '\n' for t, _ in vocab))
    elif kind == 'deberta-v3':
        shutil.copy(os.path.join(src, 'spm.model'), d)
    return d


def hf_entities(d, texts):
    """transformers' pipeline on folder d: every label kept, each strategy; a fresh AutoTokenizer
    from the folder as it stands (so the committed files, not the in-memory tokenizer, are tested)."""
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModelForTokenClassification.from_pretrained(d).eval()
    out = {}
    for s in STRATEGIES:
        p = pipeline('token-classification', model=model, tokenizer=tok, aggregation_strategy=s, ignore_labels=[])
        out[s] = [[{k: (round(float(v), 6) if k == 'score' else v.item() if hasattr(v, 'item') else v) for k, v in e.items()} for e in p(t)] for t in texts]
    return type(tok).__name__, out


def make():
    torch.manual_seed(13)
    kinds = ['roberta', 'xlm-roberta', 'distilbert', 'deberta-v3', 'modernbert']
    expected = {'transformers': transformers.__version__, 'torch': torch.__version__, 'texts': TEXTS, 'models': {}}
    with tempfile.TemporaryDirectory() as work:
        for kind in kinds:
            d = write_folder(kind, work)
            tok_class, ents = hf_entities(d, TEXTS)
            expected['models'][kind] = {'tokenizer_class': tok_class, 'results': ents}
            sizes = {f: os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))}
            print(f'{kind}: {tok_class}, {sizes}')
    # The Rust ByteLevel decoder on token lists the pipeline hands it: byte-alphabet tokens, and
    # words it decoded already (passed back in when words are grouped into entities).
    dec = AutoTokenizer.from_pretrained(os.path.join(OUT, 'roberta')).backend_tokenizer.decoder
    cases = [['ĠM', 'Ã¼', 'll', 'er'], [' Müller'], ['Mü'], ['ü'], [' São', 'Ã', '£'], ['Caf', 'Ã'], [' M\ufffdller'], ['', 'Ġa']]
    expected['byte_level_decode'] = [[c, dec.decode(c)] for c in cases]
    with open(os.path.join(OUT, 'expected.json'), 'w', encoding='utf-8') as f:
        f.write(json.dumps(expected, ensure_ascii=False, separators=(',', ':')) + '\n')


def check(d):
    """A folder tokentune saved: transformers loads it and predicts what `tokentune predict` does."""
    _, want = hf_entities(d, TEXTS)
    cli = os.path.join(ROOT, 'bin', 'tokentune.js')
    bad = 0
    for s in STRATEGIES:
        for i, t in enumerate(TEXTS):
            r = subprocess.run(['node', cli, 'predict', '--model', d, '--text', t, '--json', '--aggregation', s, '--ignore-labels', '__none__'],
                               capture_output=True, text=True, check=True)
            got = json.loads(r.stdout)
            cp = [0]
            for ch in t: cp.append(cp[-1] + (2 if ord(ch) > 0xffff else 1))
            w = want[s][i]
            same = len(got) == len(w) and all(
                (g.get('entity') or g.get('entity_group')) == (e.get('entity') or e.get('entity_group')) and g['word'] == e['word']
                and g['start'] == cp[e['start']] and g['end'] == cp[e['end']] and abs(g['score'] - e['score']) <= 1e-4
                for g, e in zip(got, w))
            if not same:
                bad += 1
                print(f'DIFFERENT {s} text {i}:\n  ours {got}\n  hf   {w}')
    print(f'{d}: transformers {transformers.__version__} loads it; {len(STRATEGIES) * len(TEXTS) - bad}/{len(STRATEGIES) * len(TEXTS)} predictions identical')
    return bad == 0


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', nargs='+', metavar='DIR')
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if all([check(d) for d in a.check]) else 1)
    make()
