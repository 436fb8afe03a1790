/**
 * Tokenizer files: vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * added tokens; saving (atomic, HF-readable); clear errors for bad or unsupported files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenizerConfigError, TokenizerFileError, WordPieceTokenizer } from '../src/tokenizers/index.js';

const models = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '..', 'shared', 'models');
const casedPath = join(models, 'bert-base-cased-vocab', 'vocab.txt');
const uncasedPath = join(models, 'bert-base-uncased-vocab', 'vocab.txt');
const camphr = join(models, 'camphr-tiny-random-bert-ner');
const skipReal = existsSync(casedPath) && existsSync(uncasedPath) ? false : `real BERT vocabularies not found under ${models}`;
const skipCamphr = existsSync(camphr) ? false : `camphr fixture not found at ${camphr}`;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tokentune-tokfiles-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const TINY = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', '!', 'h', '##e', '##l', '##o'];

function tinyJson(overrides: Record<string, unknown> = {}): string {
  const vocab = Object.fromEntries(TINY.map((t, i) => [t, i]));
  return JSON.stringify({
    version: '1.0',
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((c) => ({
      id: vocab[c],
      content: c,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
    ...overrides,
  });
}

test('fromPretrainedDir: camphr tiny BERT folder (vocab.txt + tokenizer_config + special_tokens_map)', { skip: skipCamphr }, () => {
  const tok = WordPieceTokenizer.fromPretrainedDir(camphr);
  const lines = readFileSync(join(camphr, 'vocab.txt'), 'utf8').split('\n');
  assert.equal(tok.doLowerCase, true); // tokenizer_config.json: do_lower_case true
  assert.equal(tok.vocabSize, 405); // SOURCE.md: 405 entries
  assert.deepEqual(tok.convertIdsToTokens([402, 403, 404]), ['Κ', 'Λ', 'Μ']); // SOURCE.md edge case
  for (const [name, id] of [
    ['[PAD]', tok.padId],
    ['[UNK]', tok.unkId],
    ['[CLS]', tok.clsId],
    ['[SEP]', tok.sepId],
    ['[MASK]', tok.maskId],
  ] as const) {
    assert.equal(lines[id], name);
  }
  const e = tok.encode('Hello World');
  assert.deepEqual(
    e.tokens,
    e.ids.map((id) => lines[id]),
  );
  assert.equal(tok.modelMaxLength, Infinity); // no model_max_length in its tokenizer_config.json
});

test('saveVocab writes HF files atomically; vocab.txt keeps the pinned sha256; reload gives equal encodings', { skip: skipReal }, (t) => {
  const dir = tempDir(t);
  for (const [path, lower, sum] of [
    // sha256 values from ../shared/models/*/SOURCE.md (HF bert-base-cased / -uncased vocab.txt)
    [casedPath, false, 'eeaa9875b23b04b4c54ef759d03db9d1ba1554838f8fb26c5d96fa551df93d02'],
    [uncasedPath, true, '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3'],
  ] as const) {
    const out = join(dir, lower ? 'uncased' : 'cased', 'nested');
    const tok = WordPieceTokenizer.fromVocabFile(path, { doLowerCase: lower, modelMaxLength: 512 });
    tok.saveVocab(out);
    assert.deepEqual(readdirSync(out).sort(), ['special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
    assert.equal(sha256(join(out, 'vocab.txt')), sum);
    const cfg = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg['tokenizer_class'], 'BertTokenizer');
    assert.equal(cfg['do_lower_case'], lower);
    assert.equal(cfg['model_max_length'], 512);
    assert.equal(cfg['strip_accents'], null);
    assert.equal(cfg['tokenize_chinese_chars'], true);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'special_tokens_map.json'), 'utf8')), {
      cls_token: '[CLS]',
      mask_token: '[MASK]',
      pad_token: '[PAD]',
      sep_token: '[SEP]',
      unk_token: '[UNK]',
    });
    const again = WordPieceTokenizer.fromPretrainedDir(out);
    const text = 'Héllo, Zürich! 北京 [MASK] x😀y';
    assert.deepEqual(again.encode(text), tok.encode(text));
    assert.equal(again.modelMaxLength, 512);
  }
});

test("saveVocab: unlimited model_max_length is written as HF's int(1e30); truncation uses model_max_length", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'vocab.txt'), TINY.join('\n') + '\n');
  WordPieceTokenizer.fromVocabFile(join(dir, 'vocab.txt')).saveVocab(join(dir, 'out'));
  assert.match(readFileSync(join(dir, 'out', 'tokenizer_config.json'), 'utf8'), /"model_max_length": 1000000000000000019884624838656,/);
  assert.equal(WordPieceTokenizer.fromPretrainedDir(join(dir, 'out')).modelMaxLength, Infinity);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 4, do_lower_case: true }));
  const tok = WordPieceTokenizer.fromPretrainedDir(dir);
  assert.deepEqual(tok.encode('hello world hello world', { truncation: true }).tokens, ['[CLS]', 'hello', 'world', '[SEP]']);
  assert.equal(tok.encode('hello world hello world').ids.length, 6);
});

test('fromTokenizerJson reads the normalizer, post-processor and model; tokenizer_config overrides it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tokenizer.json'), tinyJson());
  const tok = WordPieceTokenizer.fromTokenizerJson(join(dir, 'tokenizer.json'));
  assert.deepEqual(tok.tokenize('HELLO World!'), ['hello', 'world', '!']);
  assert.deepEqual(tok.tokenize('Hello [MASK]'), ['hello', '[MASK]']);
  assert.deepEqual([tok.clsId, tok.sepId], [2, 3]);
  // As BertTokenizerFast: do_lower_case in tokenizer_config.json replaces the normalizer's lowercase.
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, tokenizer_class: 'BertTokenizer' }));
  const cased = WordPieceTokenizer.fromPretrainedDir(dir);
  assert.equal(cased.doLowerCase, false);
  assert.deepEqual(cased.tokenize('HELLO hello'), ['[UNK]', 'hello']);
});

test('added tokens past the vocabulary (added_tokens.json, added_tokens_decoder) are matched verbatim', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'vocab.txt'), TINY.join('\n') + '\n');
  writeFileSync(join(dir, 'added_tokens.json'), JSON.stringify({ '<ent>': 12 }));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      do_lower_case: true,
      added_tokens_decoder: { '0': { content: '[PAD]', special: true }, '13': { content: '<E2>', special: true } },
    }),
  );
  const tok = WordPieceTokenizer.fromPretrainedDir(dir);
  assert.equal(tok.vocabSize, 12);
  assert.equal(tok.totalVocabSize, 14);
  const e = tok.encode('hello<ent>world <E2>');
  assert.deepEqual(e.tokens, ['[CLS]', 'hello', '<ent>', 'world', '<E2>', '[SEP]']);
  assert.deepEqual(e.offsets.slice(1, 5), [
    [0, 5],
    [5, 10],
    [10, 15],
    [16, 20],
  ]);
  assert.equal(tok.decode(e.ids, { skipSpecialTokens: true }), 'hello <ent> world');
  tok.saveVocab(join(dir, 'saved'));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'saved', 'added_tokens.json'), 'utf8')), { '<ent>': 12, '<E2>': 13 });
});

test('a special token missing from the vocabulary gets the next id, as HF fast tokenizers do', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a'].join('\n'));
  const tok = WordPieceTokenizer.fromVocabFile(join(dir, 'vocab.txt'));
  assert.equal(tok.maskId, 5);
  assert.equal(tok.vocabSize, 5);
  assert.deepEqual(tok.encode('a [MASK]').ids, [2, 4, 5, 3]);
});

test('vocab.txt like transformers load_vocab: CRLF, no final newline, duplicate lines (later wins)', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'vocab.txt');
  writeFileSync(file, '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nab\r\nab\r\n##c\r\n \u00a0x');
  const tok = WordPieceTokenizer.fromVocabFile(file);
  assert.equal(tok.vocabSize, 9);
  assert.equal(tok.convertTokensToIds('ab'), 6);
  assert.equal(tok.convertIdsToTokens(8), ' \u00a0x'); // nothing but the newline is stripped
  assert.deepEqual(tok.encode('abc').ids, [2, 6, 7, 3]);
  tok.saveVocab(join(dir, 'out'));
  // Both duplicate lines are written back, so ids do not shift.
  assert.equal(readFileSync(join(dir, 'out', 'vocab.txt'), 'utf8'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\nab\n##c\n \u00a0x\n');
});

test('errors name the file and the problem', (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad-vocab.txt');
  writeFileSync(bad, Buffer.concat([Buffer.from('[PAD]\n[UNK]\nok\n'), Buffer.from([0x61, 0xff, 0x62]), Buffer.from('\n')]));
  assert.throws(
    () => WordPieceTokenizer.fromVocabFile(bad),
    (e: unknown) => e instanceof TokenizerFileError && e.line === 4 && /bad-vocab\.txt:4: not valid UTF-8/.test(e.message),
  );
  writeFileSync(join(dir, 'nounk.txt'), 'a\nb\n');
  assert.throws(
    () => WordPieceTokenizer.fromVocabFile(join(dir, 'nounk.txt')),
    (e: unknown) => e instanceof TokenizerConfigError && /"\[UNK\]" is not in the vocabulary/.test(e.message),
  );
  writeFileSync(join(dir, 'empty.txt'), '');
  assert.throws(() => WordPieceTokenizer.fromVocabFile(join(dir, 'empty.txt')), /empty/);
  assert.throws(
    () => WordPieceTokenizer.fromVocabFile(join(dir, 'missing.txt')),
    (e: unknown) => e instanceof TokenizerFileError && /missing\.txt: cannot read/.test(e.message),
  );

  const tj = join(dir, 'tokenizer.json');
  const cases: [string, RegExp][] = [
    ['{ not json', /tokenizer\.json: not valid JSON/],
    [tinyJson({ model: { type: 'BPE', vocab: {}, merges: [] } }), /model\.type is "BPE"; only "WordPiece"/],
    [tinyJson({ normalizer: { type: 'Sequence', normalizers: [] } }), /normalizer\.type is "Sequence"/],
    [tinyJson({ pre_tokenizer: { type: 'Whitespace' } }), /pre_tokenizer\.type is "Whitespace"/],
    [tinyJson({ model: { type: 'WordPiece', vocab: { '[UNK]': 0, a: 5 } } }), /ids must be integers 0\.\.1/],
    [
      tinyJson({ added_tokens: [{ id: 5, content: '[MASK]', special: true }] }),
      /added token "\[MASK\]" has id 5, which the vocabulary gives to "hello"/,
    ],
    [tinyJson({ added_tokens: [{ id: 4, content: '[MASK]', lstrip: true }] }), /sets lstrip, which is not supported/],
    [tinyJson({ post_processor: { type: 'RobertaProcessing' } }), /post_processor\.type is "RobertaProcessing"/],
  ];
  for (const [json, re] of cases) {
    writeFileSync(tj, json);
    assert.throws(
      () => WordPieceTokenizer.fromTokenizerJson(tj),
      (e: unknown) => e instanceof TokenizerFileError && re.test(e.message) && e.message.includes(tj),
      re.source,
    );
  }

  const folder = join(dir, 'folder');
  mkdirSync(folder);
  assert.throws(() => WordPieceTokenizer.fromPretrainedDir(folder), /neither tokenizer\.json nor vocab\.txt/);
  writeFileSync(join(folder, 'vocab.txt'), TINY.join('\n'));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: 'yes' }));
  assert.throws(() => WordPieceTokenizer.fromPretrainedDir(folder), /tokenizer_config\.json: "do_lower_case" must be true or false/);
});

test('a save into an existing folder replaces files and leaves no temporary files', { skip: skipCamphr }, (t) => {
  const dir = tempDir(t);
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(camphr, f), join(dir, f));
  const tok = WordPieceTokenizer.fromPretrainedDir(dir);
  tok.saveVocab(dir);
  tok.saveVocab(dir);
  assert.deepEqual(readdirSync(dir).sort(), ['special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.equal(sha256(join(dir, 'vocab.txt')), sha256(join(camphr, 'vocab.txt')));
});
