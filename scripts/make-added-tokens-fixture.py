"""Expected ids for added_tokens.json in tokenizer folders without tokenizer.json (legacy
vocab.json + merges.txt, SentencePiece), as transformers' AutoTokenizer reads them, for
test/tokenizers-added-tokens-json.test.ts.

    /tmp/hfenv/bin/python scripts/make-added-tokens-fixture.py   # writes test/fixtures/added-tokens-json.json

The vocabularies are the legacy files of test/fixtures/e2e (made by make-e2e-models.py); each case
adds a tokenizer_config.json / special_tokens_map.json and an added_tokens.json beside them.
"""
import json, os, shutil, tempfile

import transformers
from transformers import AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
E2E = os.path.join(ROOT, 'test', 'fixtures', 'e2e')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'added-tokens-json.json')
TEXTS = ['Peter visited <ent>Paris</ent> with <ent> Bob </ent>.', 'hello<ent>world <mask> paris Paris']
ROBERTA = ('roberta', ['vocab.json', 'merges.txt'])
CASES = [
    # Plain tokens after the vocabulary (normalized, not special); "Paris" matches inside words.
    dict(name='bpe', base=ROBERTA, files={'tokenizer_config.json': {'tokenizer_class': 'RobertaTokenizer'}},
         added={'<ent>': 500, '</ent>': 501, 'Paris': 502}),
    # special_tokens_map.json's mask_token with lstrip: "<mask>" takes the space before it (by
    # default, as in the case above, transformers 5 leaves the space to the text).
    dict(name='bpe-mask-lstrip', base=ROBERTA, files={'tokenizer_config.json': {'tokenizer_class': 'RobertaTokenizer'},
         'special_tokens_map.json': {'mask_token': {'content': '<mask>', 'lstrip': True, 'rstrip': False, 'normalized': False, 'single_word': False}}},
         added={'<ent>': 500}),
    # A token named in special_tokens_map's extra_special_tokens is special (not normalized); ids
    # out of order in the file are taken in id order; a token the vocabulary has keeps its id.
    dict(name='xlm-roberta', base=('xlm-roberta', ['sentencepiece.bpe.model']),
         files={'tokenizer_config.json': {'tokenizer_class': 'XLMRobertaTokenizer'}, 'special_tokens_map.json': {'extra_special_tokens': ['</ent>']}},
         added={'paris': 404, '</ent>': 403, '<ent>': 402, '<s>': 0}),
    # DeBERTa: the file's tokens come before the special tokens the SentencePiece model lacks.
    dict(name='deberta-v2', base=('deberta-v3', ['spm.model']),
         files={'tokenizer_config.json': {'tokenizer_class': 'DebertaV2Tokenizer', 'extra_special_tokens': ['</ent>']}},
         added={'<ent>': 400, '</ent>': 401, 'paris': 402}),
    # With added_tokens_decoder in tokenizer_config.json, added_tokens.json is ignored.
    dict(name='bpe-decoder-wins', base=ROBERTA,
         files={'tokenizer_config.json': {'tokenizer_class': 'RobertaTokenizer', 'added_tokens_decoder': {
             str(i): {'content': t, 'lstrip': t == '<mask>', 'normalized': False, 'rstrip': False, 'single_word': False, 'special': True}
             for i, t in enumerate(['<s>', '<pad>', '</s>', '<unk>', '<mask>'])}}},
         added={'<ent>': 500}),
]


def main():
    out = {'transformers': transformers.__version__, 'texts': TEXTS, 'cases': []}
    with tempfile.TemporaryDirectory() as work:
        for c in CASES:
            d = os.path.join(work, c['name'])
            os.makedirs(d)
            kind, names = c['base']
            for n in names: shutil.copy(os.path.join(E2E, kind, n), d)
            for n, obj in {**c['files'], 'added_tokens.json': c['added']}.items():
                with open(os.path.join(d, n), 'w', encoding='utf-8') as f: json.dump(obj, f)
            tok = AutoTokenizer.from_pretrained(d)
            enc = [tok(t, return_offsets_mapping=True) for t in TEXTS]
            out['cases'].append({**c, 'base': {'folder': kind, 'files': names}, 'tokenizer_class': type(tok).__name__,
                                 'expected': [{'ids': e['input_ids'], 'offsets': [list(o) for o in e['offset_mapping']]} for e in enc]})
            print(c['name'], type(tok).__name__, [tok.convert_ids_to_tokens(e['input_ids']) for e in enc][0])
    assert all(t.isascii() for t in TEXTS)  # offsets: code points = UTF-16 units
    with open(OUT, 'w', encoding='utf-8') as f: f.write(json.dumps(out, separators=(',', ':')) + '\n')


if __name__ == '__main__':
    main()
