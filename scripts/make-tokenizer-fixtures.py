"""Builds tokenizer folders the way RoBERTa, ModernBERT, XLM-R, DeBERTa-v3 and DistilBERT ship
them, trained on real text, and the outputs Hugging Face `tokenizers` gives for them.

    /tmp/hfenv/bin/python scripts/make-tokenizer-fixtures.py            # small, committed fixtures
    /tmp/hfenv/bin/python scripts/make-tokenizer-fixtures.py --big OUT  # parity run (not committed)

Training text: WNUT-17 (CC BY 4.0) and hand-written multilingual sentences; --big also trains on
and tests with CoNLL-2003 (research use only: never committed). Each type becomes one gzipped JSON
{"files": {name: text}, "raw": [...], "split": [...]} where a case holds the input, ids, offsets
(converted from Python code points to JavaScript UTF-16 units) and, for split input, word ids.
"""
import argparse, base64, gzip, json, os, random, sys, tempfile

import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, DebertaV2Tokenizer, XLMRobertaTokenizer

BIG = False
SHARED = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data')

MULTI = """Der schnelle braune Fuchs springt über den faulen Hund in München.
Le cœur a ses raisons que la raison ne connaît point, dit-on à Paris.
¿Dónde está la biblioteca de Salamanca? Está cerca de la Plaza Mayor.
Москва — столица России, а Санкт-Петербург был столицей до 1918 года.
Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και έχει πολλά μουσεία.
القاهرة هي عاصمة مصر وأكبر مدينة في العالم العربي.
ירושלים היא עיר עתיקה עם היסטוריה ארוכה ומרתקת.
北京是中华人民共和国的首都，也是全国的政治中心。
東京タワーは東京都港区にある電波塔です。
서울은 대한민국의 수도이며 가장 큰 도시이다.
नई दिल्ली भारत की राजधानी है और यहाँ बहुत लोग रहते हैं।
İstanbul, Türkiye'nin en kalabalık şehridir ve Boğaziçi'nde yer alır.
Hà Nội là thủ đô của Việt Nam, nổi tiếng với phố cổ.
กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย
Warszawa jest stolicą Polski, a Kraków był nią przez wieki.
Ångström och Škoda möttes i Łódź för att dricka kaffe ☕ 😀.
The ﬁrst ﬂight cost ５０ dollars and ½ a euro — café, naïve, coöperate.
Straße, ǅemal, ﬀ, ᾈ, Ⅻ, ㎏, ℡, and the mathematical 𝐀𝐁𝐂 are compatibility forms.""".split('\n')


def read_conll(path, sep=None):
    sents, cur = [], []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                if cur: sents.append(cur); cur = []
                continue
            if line.startswith('-DOCSTART-'): continue
            cur.append(line.split(sep)[0] if sep else line.split()[0])
    if cur: sents.append(cur)
    return sents


# Characters where Node's Unicode 17 and the Rust crates' older tables disagree, next to ordinary
# ones so that a different class changes the pieces (src/tokenizers/unicode-exceptions.ts).
EDGE = ['a\U000333A9b x\U000323B0 \U000333A9, 7\U000333A9', 'x\u00b2\u00bd y\u24b6\u24b7z \u00b9st', 'ok\u1ac5y e\u0301\u1ac5 a\u1cf2',
        'n\U000113CAo \U00032E2E\u4e2d\u6587 w\U00011DE0', '\U00010ED0! x\U0001E6E3y \u2b96 \ua7ce\u0041',
        'new york\U000333A9 \U00032E2Enew york, new york\U00016FF4']  # single_word added token next to them


def random_strings(n, seed, max_parts=12):
    rng = random.Random(seed)
    pools = [
        lambda: rng.choice(['hello', 'World', "don't", 'U.S.', 'e-mail', '42', '3.14', '@user', '#tag', 'http://x.io/a?b=1']),
        lambda: rng.choice([' ', '  ', '\t', '\n', '\u00a0', '\u3000', '\u2009', '\r\n', '   ']),
        lambda: chr(rng.choice([0x1F600, 0x1F44D, 0x1F3FD, 0x1D400, 0x10348, 0x20000, 0x1F1EB, 0x1F1F7, 0xE0041, 0x1F9D1])) ,
        lambda: rng.choice(['e\u0301', 'a\u0308\u0304', '\u0301', 'n\u0303', '\u0915\u094d\u0937', 'g\u0326\u0307']),
        lambda: chr(rng.choice([0, 1, 7, 0x1b, 0x7f, 0x85, 0x200b, 0x200d, 0xfeff, 0xad, 0xfffd, 0xe000])),
        lambda: ''.join(chr(rng.randint(0x4e00, 0x9fff)) for _ in range(rng.randint(1, 4))),
        lambda: ''.join(chr(rng.randint(0x0621, 0x064a)) for _ in range(rng.randint(1, 6))),
        lambda: ''.join(chr(rng.randint(0x05d0, 0x05ea)) for _ in range(rng.randint(1, 6))),
        lambda: ''.join(chr(rng.randint(0xac00, 0xd7a3)) for _ in range(rng.randint(1, 3))),
        lambda: rng.choice(['ﬁ', '½', 'Ⅻ', '㎏', 'ｆｕｌｌ', 'İ', 'ß', 'ǅ', 'Σ', 'ς', '…', '‐', '“', '”']),
        lambda: ''.join(chr(c) for c in [rng.randint(0x20, 0xd7ff) for _ in range(rng.randint(1, 3))]),
        lambda: chr(rng.randint(0x10000, 0x10ffff)),
        lambda: ''.join(rng.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"()[]-_/&') for _ in range(rng.randint(1, 8))),
        # Assigned in Node's Unicode 17 but not in the Rust crates' tables (unicode-exceptions.ts):
        # CJK Ext J, Oniguruma's \w extras, regex-crate word / StripAccents mark / NF differences.
        lambda: chr(rng.choice([0x333A9, 0x323B0, 0x32E2E, 0x113CA, 0x1AC5, 0x11DE0, 0x1CF2, 0x10ED0, 0x1E6E3, 0x16FF4, 0x24B6,
                                0xB2, 0xBD, 0x1734, 0x897, 0x105C9, 0x2B96, 0xA7CE, 0x1CCFA])),
        lambda: rng.choice(['<s>', '</s>', '<mask>', '[MASK]', '[SEP]', '[CLS]', '<unk>', '[UNK]', '<pad>', '[PAD]', 'new york', 'New York', ' <ent> ', '<ent>x', 'Café-au-lait', '#NLP', '@bob']),
    ]
    out = []
    for _ in range(n):
        parts = [rng.choice(pools)() for _ in range(rng.randint(1, max_parts))]
        s = ''.join(p if rng.random() < 0.5 else p + ' ' for p in parts)
        out.append(''.join(ch for ch in s if not 0xd800 <= ord(ch) <= 0xdfff))
    return out


def varied(pool, n):
    """n sentences from pool, each adding the most characters and words not seen yet (few cases, wide coverage)."""
    seen, out, cands = set(), [], [s for s in pool[:3000] if len(s) <= 14]
    for _ in range(min(n, len(cands))):
        k = max(range(len(cands)), key=lambda i: len(set(cands[i]) - seen) + len(set(''.join(cands[i])) - seen))
        out.append(cands.pop(k))
        seen |= set(out[-1]) | set(''.join(out[-1]))
    return out


def utf16_index(text):
    """Code-point index -> UTF-16 index, for every boundary 0..len(text)."""
    m, u = [0], 0
    for ch in text:
        u += 2 if ord(ch) > 0xffff else 1
        m.append(u)
    return m


def flat_offsets(offsets, texts):
    out = []
    for k, (a, b) in enumerate(offsets):
        m = texts[k]
        out += [m[a], m[b]]
    return out


def record_raw(tok, text):
    e = tok.encode(text)
    m = utf16_index(text)
    return {'t': text, 'ids': e.ids, 'off': flat_offsets(e.offsets, [m] * len(e.ids)),
            'dec': tok.decode(e.ids, skip_special_tokens=False), 'decs': tok.decode(e.ids, skip_special_tokens=True)}


def record_split(tok, words):
    e = tok.encode(words, is_pretokenized=True)
    maps = [utf16_index(words[w]) if w is not None else [0] for w in e.word_ids]
    return {'w': words, 'ids': e.ids, 'off': flat_offsets(e.offsets, maps), 'wid': e.word_ids}


def split_tokenizer(tok_json):
    """The tokenizer transformers uses for is_split_into_words with add_prefix_space=True: every
    ByteLevel pre-tokenizer gets add_prefix_space (RoBERTa requires it for pre-split words)."""
    j = json.loads(tok_json)
    def fix(p):
        if p is None: return
        if p['type'] == 'ByteLevel': p['add_prefix_space'] = True
        for q in p.get('pretokenizers', []) or []: fix(q)
    fix(j["pre_tokenizer"])
    pp = j.get("post_processor")
    for q in ([pp] if pp else []) + ((pp or {}).get("processors") or []):
        if q["type"] in ("RobertaProcessing", "ByteLevel"): q["add_prefix_space"] = True
    return Tokenizer.from_str(json.dumps(j))


def train_roberta(text, vocab):
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(('</s>', 2), ('<s>', 0), trim_offsets=True, add_prefix_space=False)
    tr = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=['<s>', '<pad>', '</s>', '<unk>', '<mask>'],
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(text, tr)
    tok.add_special_tokens([])
    j = json.loads(tok.to_str())
    for a in j['added_tokens']:
        if a['content'] == '<mask>': a['lstrip'] = True  # as roberta-base ships it
    return json.dumps(j), {'model_max_length': 512, 'tokenizer_class': 'RobertaTokenizer', 'add_prefix_space': False,
                           'bos_token': '<s>', 'eos_token': '</s>', 'unk_token': '<unk>', 'sep_token': '</s>', 'cls_token': '<s>',
                           'pad_token': '<pad>', 'mask_token': '<mask>'}


def train_modernbert(text, vocab):
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = ['|||IP_ADDRESS|||', '<|padding|>', '[UNK]', '[CLS]', '[SEP]', '[PAD]', '[MASK]']
    tr = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=specials,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(text, tr)
    cls, sep = tok.token_to_id('[CLS]'), tok.token_to_id('[SEP]')
    tok.post_processor = processors.TemplateProcessing(single='[CLS]:0 $A:0 [SEP]:0', pair='[CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0',
                                                       special_tokens=[('[CLS]', cls), ('[SEP]', sep)])
    j = json.loads(tok.to_str())
    for a in j['added_tokens']:
        if a['content'] == '[MASK]': a['lstrip'] = True
    return json.dumps(j), {'model_max_length': 8192, 'tokenizer_class': 'PreTrainedTokenizerFast', 'clean_up_tokenization_spaces': True,
                           'cls_token': '[CLS]', 'sep_token': '[SEP]', 'pad_token': '[PAD]', 'unk_token': '[UNK]', 'mask_token': '[MASK]'}


def train_spm(text, vocab, workdir, name, rule='nmt_nfkc'):
    path = os.path.join(workdir, name + '.txt')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(text))
    prefix = os.path.join(workdir, name)
    extra = {}
    if rule == 'small':  # a few custom rules: a small charsmap, still a real Precompiled trie
        tsv = os.path.join(workdir, name + '.tsv')
        with open(tsv, 'w') as f:
            f.write('FB01\t66 69\nFF21\t41\nFF41\t61\n2160\t49\nA0\t20\n3000\t20\n2026\t2E 2E 2E\n41 301\tC1\n65 301\tE9\n212B\tC5\n')
        extra = {'normalization_rule_tsv': tsv}
    else:
        extra = {'normalization_rule_name': rule}
    spm.SentencePieceTrainer.train(input=path, model_prefix=prefix, vocab_size=vocab, model_type='unigram',
                                   character_coverage=0.9995, minloglevel=2, **extra,
                                   hard_vocab_limit=False, split_digits=name.startswith('deberta'))
    return prefix + '.model'


def convert(cls, model_path, fname, workdir, name, keep_model=False, **kwargs):
    d = os.path.join(workdir, name + '-slow')
    os.makedirs(d, exist_ok=True)
    with open(model_path, 'rb') as f: blob = f.read()
    with open(os.path.join(d, fname), 'wb') as f: f.write(blob)
    tok = cls.from_pretrained(d, **kwargs)
    out = os.path.join(workdir, name + '-fast')
    tok.save_pretrained(out)
    files = {}
    for fn in sorted(os.listdir(out)):
        if fn.endswith('.json'):
            with open(os.path.join(out, fn), encoding='utf-8') as f: files[fn] = f.read()
    if BIG or keep_model:  # an nmt_nfkc SentencePiece model (mostly its charsmap) is too large to commit
        files[fn_legacy(fname)] = base64.b64encode(blob).decode()
    return files


def fn_legacy(fname):
    return fname + '.b64'


def train_wordpiece(text, vocab):
    tok = Tokenizer(models.WordPiece(unk_token='[UNK]'))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tr = trainers.WordPieceTrainer(vocab_size=vocab, special_tokens=['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'], show_progress=False)
    tok.train_from_iterator(text, tr)
    tok.post_processor = processors.TemplateProcessing(single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1',
                                                       special_tokens=[('[CLS]', 2), ('[SEP]', 3)])
    return tok.to_str(), {'model_max_length': 512, 'tokenizer_class': 'DistilBertTokenizer', 'do_lower_case': True}


def train_components_a(text, vocab):
    """Normalizers NFKC, Replace (string), Lowercase, Strip; Split regex (Removed, Isolated), Digits, Punctuation (Contiguous); WordPiece."""
    tok = Tokenizer(models.WordPiece(unk_token='[UNK]', max_input_chars_per_word=20))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("''", '"'), normalizers.Lowercase(), normalizers.Strip()])
    # \p{L}+|\w+ isolated: Oniguruma's classes (older Unicode tables) decide these word boundaries.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r'\s+'), 'removed'), pre_tokenizers.Split(Regex(r'\p{L}+|\w+'), 'isolated'),
                                                 pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.Punctuation('contiguous')])
    tr = trainers.WordPieceTrainer(vocab_size=vocab, special_tokens=['[PAD]', '[UNK]', '[CLS]', '[SEP]'], show_progress=False)
    tok.train_from_iterator(text, tr)
    tok.post_processor = processors.BertProcessing(('[SEP]', 3), ('[CLS]', 2))
    tok.decoder = decoders.WordPiece()
    return tok.to_str(), {'model_max_length': 512, 'pad_token': '[PAD]'}


def train_components_b(text, vocab):
    """NFD + StripAccents, Split string (MergedWithPrevious), Split regex (MergedWithNext, Isolated), Whitespace; BPE with prefix and suffix."""
    tok = Tokenizer(models.BPE(unk_token='<unk>', continuing_subword_prefix='##', end_of_word_suffix='</w>', fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.NFC()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split('-', 'merged_with_previous'), pre_tokenizers.Split(Regex(r'[#@]'), 'merged_with_next'),
                                                 pre_tokenizers.Split(Regex(r'\p{N}+'), 'isolated'), pre_tokenizers.Whitespace()])
    tr = trainers.BpeTrainer(vocab_size=vocab, special_tokens=['<pad>', '<unk>', '<s>', '</s>'], continuing_subword_prefix='##', end_of_word_suffix='</w>',
                             limit_alphabet=300, show_progress=False)
    tok.train_from_iterator(text, tr)
    tok.post_processor = processors.TemplateProcessing(single='<s> $A </s>', special_tokens=[('<s>', 2), ('</s>', 3)])
    tok.add_tokens([AddedToken('new york', single_word=True, normalized=True), AddedToken('<ent>', lstrip=True, rstrip=True, normalized=False)])
    return tok.to_str(), {'model_max_length': 512, 'pad_token': '<pad>'}


def train_components_c(text, vocab):
    """Unigram trained by tokenizers with Prepend + Replace(regex) normalizers, Metaspace prepend_scheme "first", Split contiguous."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(r'\s+'), ' '), normalizers.Prepend('\u2581'), normalizers.NFKD()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r'[.!?]'), 'contiguous'),
                                                 pre_tokenizers.Metaspace(replacement='\u2581', prepend_scheme='first', split=True)])
    tr = trainers.UnigramTrainer(vocab_size=vocab, special_tokens=['<pad>', '<unk>', '<s>', '</s>'], unk_token='<unk>', show_progress=False)
    tok.train_from_iterator(text, tr)
    tok.post_processor = processors.TemplateProcessing(single='<s> $A </s>', special_tokens=[('<s>', 2), ('</s>', 3)])
    tok.decoder = decoders.Metaspace(replacement='\u2581', prepend_scheme='first')
    return tok.to_str(), {'model_max_length': 512, 'pad_token': '<pad>'}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--big', metavar='OUT', help='parity run: write full-size expected outputs into OUT')
    ap.add_argument('--sentences', type=int, default=None)
    ap.add_argument('--random', type=int, default=None)
    ap.add_argument('--vocab', type=int, default=None)
    a = ap.parse_args()
    big = a.big is not None
    global BIG
    BIG = big
    out = a.big or os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'tokenizers')
    n_sent = a.sentences or (10000 if big else 30)
    n_rand = a.random or (50000 if big else 50)
    vocab = a.vocab or (8000 if big else 500)
    os.makedirs(out, exist_ok=True)

    wnut = read_conll(os.path.join(SHARED, 'wnut17', 'wnut17train.conll'), '\t') + read_conll(os.path.join(SHARED, 'wnut17', 'emerging.test.annotated'), '\t')
    conll = []
    if big:
        for s in ('train', 'valid', 'test'):
            conll += read_conll(os.path.join(SHARED, 'conll2003', 'iob2_token_tag', s + '.txt'))
    train_text = [' '.join(s) for s in wnut + conll] + MULTI * 20
    rng = random.Random(12)
    pool = wnut + conll
    rng.shuffle(pool)
    rest = max(0, n_sent - len(MULTI))
    sents = ([[w for w in s] for s in pool[:rest]] if big else varied(pool, rest)) + [m.split() for m in MULTI]
    rand = EDGE + random_strings(n_rand - len(EDGE), 7, 12 if big else 5)

    with tempfile.TemporaryDirectory() as work:
        types = {}
        j, cfg = train_roberta(train_text, vocab); types['roberta'] = {'tokenizer.json': j, 'tokenizer_config.json': json.dumps(cfg)}
        j, cfg = train_modernbert(train_text, vocab); types['modernbert'] = {'tokenizer.json': j, 'tokenizer_config.json': json.dumps(cfg)}
        j, cfg = train_wordpiece(train_text, vocab); types['wordpiece'] = {'tokenizer.json': j, 'tokenizer_config.json': json.dumps(cfg)}
        types['xlmr'] = convert(XLMRobertaTokenizer, train_spm(train_text, vocab, work, 'xlmr'), 'sentencepiece.bpe.model', work, 'xlmr')
        types['deberta'] = convert(DebertaV2Tokenizer, train_spm(train_text, vocab, work, 'deberta'), 'spm.model', work, 'deberta')
        # Legacy folders (no tokenizer.json): small SentencePiece models without a charsmap.
        types['xlmr-legacy'] = convert(XLMRobertaTokenizer, train_spm(train_text, 400, work, 'xlmr-legacy', 'small'), 'sentencepiece.bpe.model', work, 'xlmr-legacy', True)
        deb_model = train_spm(train_text, 400, work, 'deberta-legacy', 'small')
        types['deberta-legacy'] = convert(DebertaV2Tokenizer, deb_model, 'spm.model', work, 'deberta-legacy', True)
        # tokenizer_config.json flags transformers applies when it builds from the SentencePiece model
        types['deberta-legacy-flags'] = convert(DebertaV2Tokenizer, deb_model, 'spm.model', work, 'deberta-legacy-flags', True,
                                                do_lower_case=True, split_by_punct=True, add_prefix_space=False)
        for name, fn in (('components-a', train_components_a), ('components-b', train_components_b), ('components-c', train_components_c)):
            j, cfg = fn(train_text, vocab)
            types[name] = {'tokenizer.json': j, 'tokenizer_config.json': json.dumps(cfg)}
        for name, files in types.items():
            tok = Tokenizer.from_str(files['tokenizer.json'])
            stok = split_tokenizer(files['tokenizer.json'])
            ss, rr = (sents, rand) if big or not (name.startswith('components') or 'legacy' in name) else (sents[:10] + sents[-10:], rand[:30])
            raw = [record_raw(tok, ' '.join(s)) for s in ss] + [record_raw(tok, t) for t in rr]
            split = [record_split(stok, s) for s in ss] + [record_split(stok, [w for w in t.split(' ') if w]) for t in rr if t.split(' ')]
            split = [c for c in split if c['w']]
            doc = {'type': name, 'files': files, 'raw': raw, 'split': split}
            path = os.path.join(out, name + '.json.gz')
            with open(path, 'wb') as raw_f, gzip.GzipFile(fileobj=raw_f, mode='wb', compresslevel=9, mtime=0, filename='') as gz:
                gz.write(json.dumps(doc, ensure_ascii=False, separators=(',', ':')).encode('utf-8'))  # mtime 0: same bytes each run
            print(f'{name}: {len(raw)} raw + {len(split)} split cases -> {path} ({os.path.getsize(path)} bytes)')


if __name__ == '__main__':
    main()
