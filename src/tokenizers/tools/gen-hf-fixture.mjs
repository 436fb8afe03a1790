// Writes test/fixtures/tokenizer-hf.json from Hugging Face's Rust `tokenizers` library (the engine
// behind BertTokenizerFast) through its official npm bindings. Development tool, not run by tests/CI.
// scripts/fixtures/make-tokenizer-hf-fixture.py writes the same format from Python transformers.
//
// Usage: npm install --prefix /tmp/hfref tokenizers@0.23.2
//        node src/tokenizers/tools/gen-hf-fixture.mjs /tmp/hfref/node_modules/tokenizers
// Needs ../shared/models/bert-base-{cased,uncased}-vocab/vocab.txt next to the repository.
//
// Format: { tokenizers: {name: {vocab, do_lower_case, strip_accents} | {tokenizer_json}},
//           cases: [{tokenizer, text | words, ids, tokens, offsets (code points, as Python),
//                    word_ids, special_tokens_mask, decoded_raw, decoded_raw_skip}] }
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FIXED_TEXTS, FIXED_WORDS, TINY_VOCAB, randomTexts, randomWordLists } from './hf-fixture-cases.mjs';

const pkgDir = process.argv[2];
if (!pkgDir) throw new Error('usage: gen-hf-fixture.mjs <path to the tokenizers npm package>');
const hf = await import(pathToFileURL(path.join(path.resolve(pkgDir), 'index.js')).href);
const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const shared = path.resolve(repo, '..', 'shared', 'models');

function readVocab(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** tokenizer.json as transformers' BertConverter builds it (TemplateProcessing, specials not normalized). */
function converterJson(lines, lowercase, stripAccents) {
  const vocab = Object.fromEntries(lines.map((t, i) => [t, i]));
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const tok = (t, type) => ({ SpecialToken: { id: t, type_id: type } });
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials
      .map((c) => ({ id: vocab[c], content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
      .sort((a, b) => a.id - b.id),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), { Sequence: { id: 'A', type_id: 0 } }, tok('[SEP]', 0)],
      pair: [
        tok('[CLS]', 0),
        { Sequence: { id: 'A', type_id: 0 } },
        tok('[SEP]', 0),
        { Sequence: { id: 'B', type_id: 1 } },
        tok('[SEP]', 1),
      ],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [vocab[t]], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

/** A tokenizer.json serialized by the Rust library itself (round trip through its save()). */
function rustSerialized(json) {
  const tmp = path.join(fs.mkdtempSync('/tmp/tt-fixture-'), 'tokenizer.json');
  hf.Tokenizer.fromString(json).save(tmp, true);
  return fs.readFileSync(tmp, 'utf8');
}

/** The tiny tokenizer built with the library's own API (BertProcessing post-processor). */
function apiBuiltJson() {
  const vocab = Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i]));
  const t = new hf.Tokenizer(hf.WordPiece.init(vocab, { unkToken: '[UNK]' }));
  t.setNormalizer(hf.bertNormalizer({ lowercase: true }));
  t.setPreTokenizer(hf.bertPreTokenizer());
  t.setPostProcessor(hf.bertProcessing(['[SEP]', vocab['[SEP]']], ['[CLS]', vocab['[CLS]']]));
  t.setDecoder(hf.wordPieceDecoder('##', true));
  t.addSpecialTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const tmp = path.join(fs.mkdtempSync('/tmp/tt-fixture-'), 'tokenizer.json');
  t.save(tmp, true);
  return fs.readFileSync(tmp, 'utf8');
}

const tokenizers = {
  cased: { vocab: 'bert-base-cased-vocab/vocab.txt', do_lower_case: false, strip_accents: null },
  uncased: { vocab: 'bert-base-uncased-vocab/vocab.txt', do_lower_case: true, strip_accents: null },
  'uncased-keep-accents': { vocab: 'bert-base-uncased-vocab/vocab.txt', do_lower_case: true, strip_accents: false },
  'cased-strip-accents': { vocab: 'bert-base-cased-vocab/vocab.txt', do_lower_case: false, strip_accents: true },
  'tiny-template-json': { tokenizer_json: rustSerialized(converterJson(TINY_VOCAB, true, null)) },
  'tiny-api-json': { tokenizer_json: apiBuiltJson() },
};
const engines = {};
for (const [name, t] of Object.entries(tokenizers)) {
  engines[name] = t.tokenizer_json
    ? hf.Tokenizer.fromString(t.tokenizer_json)
    : hf.Tokenizer.fromString(converterJson(readVocab(path.join(shared, t.vocab)), t.do_lower_case, t.strip_accents));
}

// Rust encodes pre-tokenized input word by word (word index i, offsets within the word) and merges;
// the bindings cannot take pre-tokenized input, so do exactly that here.
async function encodeWords(tk, words) {
  const frame = await tk.encode('');
  const [cls, sep] = frame.getIds();
  const out = { ids: [cls], tokens: [frame.getTokens()[0]], offsets: [[0, 0]], word_ids: [null], special_tokens_mask: [1] };
  for (let i = 0; i < words.length; i++) {
    const e = await tk.encode(words[i], null, { addSpecialTokens: false });
    e.getIds().forEach((id, k) => {
      out.ids.push(id);
      out.tokens.push(e.getTokens()[k]);
      out.offsets.push(e.getOffsets()[k]);
      out.word_ids.push(i);
      out.special_tokens_mask.push(0);
    });
  }
  out.ids.push(sep);
  out.tokens.push(frame.getTokens()[1]);
  out.offsets.push([0, 0]);
  out.word_ids.push(null);
  out.special_tokens_mask.push(1);
  return out;
}

async function encodeText(tk, text) {
  const e = await tk.encode(text);
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    offsets: e.getOffsets(),
    word_ids: e.getWordIds().map((w) => w ?? null),
    special_tokens_mask: e.getSpecialTokensMask(),
  };
}

const cases = [];
const plan = [
  ...FIXED_TEXTS.flatMap((text) => ['cased', 'uncased'].map((tokenizer) => ({ tokenizer, text }))),
  ...FIXED_WORDS.flatMap((words) => ['cased', 'uncased'].map((tokenizer) => ({ tokenizer, words }))),
  ...FIXED_TEXTS.slice(0, 30).flatMap((text) =>
    ['uncased-keep-accents', 'cased-strip-accents', 'tiny-template-json', 'tiny-api-json'].map((tokenizer) => ({ tokenizer, text })),
  ),
  ...randomTexts(160, 20240611).map((text, i) => ({
    tokenizer: ['cased', 'uncased', 'uncased-keep-accents', 'cased-strip-accents'][i % 4],
    text,
  })),
  ...randomWordLists(40, 777).map((words, i) => ({ tokenizer: i % 2 ? 'cased' : 'uncased', words })),
];
for (const p of plan) {
  const tk = engines[p.tokenizer];
  const r = p.words ? await encodeWords(tk, p.words) : await encodeText(tk, p.text);
  cases.push({
    ...p,
    ...r,
    decoded_raw: await tk.decode(r.ids, false),
    decoded_raw_skip: await tk.decode(r.ids, true),
  });
}

const fixture = {
  generator: `HF tokenizers ${version} (Rust library, official npm bindings) via src/tokenizers/tools/gen-hf-fixture.mjs`,
  note: 'offsets are code-point indices (as HF Python reports them); decoded_raw = decode without transformers clean_up_tokenization',
  tokenizers,
  cases,
};
const out = path.join(repo, 'test', 'fixtures', 'tokenizer-hf.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(fixture) + '\n');
console.log(`wrote ${out}: ${cases.length} cases`);
