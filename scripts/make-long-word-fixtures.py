"""Ids Hugging Face `tokenizers` gives for very long words, with the committed e2e tokenizers
(byte-level BPE: RoBERTa, ModernBERT; Unigram: XLM-R; WordPiece with max_input_chars_per_word
raised to 1e9). Proves the heap-based BPE merge and the bounded WordPiece match keep parity.

    /tmp/hfenv/bin/python scripts/make-long-word-fixtures.py   # writes test/fixtures/tokenizers/long-words.json.gz
"""
import gzip, json, os, random
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(__file__), '..')
E2E = os.path.join(ROOT, 'test', 'fixtures', 'e2e')

rng = random.Random(21)
def word(alphabet, n):
    return ''.join(rng.choice(alphabet) for _ in range(n))

TEXTS = [
    'in' * 3000,
    'tokenization' * 300,
    word('abcdefghijklmnopqrstuvwxyz', 4000),
    word('aeinrst', 4000),
    word('abcdeéèàüß中文', 2000),
    'x' + 'ab' * 1500 + ' short words and ' + 'the' * 800,
]
WP_OVERRIDE = {'max_input_chars_per_word': 1000000000}

def encode(tok, text):
    e = tok.encode(text)
    return e.ids

out = {'texts': TEXTS, 'wordpiece_override': WP_OVERRIDE, 'models': {}}
for name in ['roberta', 'modernbert', 'xlm-roberta', 'distilbert']:
    path = os.path.join(E2E, name, 'tokenizer.json')
    j = json.load(open(path, encoding='utf-8'))
    if j['model']['type'] == 'WordPiece':
        j['model'].update(WP_OVERRIDE)
    tok = Tokenizer.from_str(json.dumps(j))
    out['models'][name] = [encode(tok, t) for t in TEXTS]

dest = os.path.join(ROOT, 'test', 'fixtures', 'tokenizers', 'long-words.json.gz')
with gzip.GzipFile(dest, 'wb', mtime=0) as f:
    f.write(json.dumps(out, ensure_ascii=False).encode('utf-8'))
print('wrote', dest, os.path.getsize(dest), 'bytes')
