/**
 * Fuzz targets for the tokenizer and resume surfaces (issue 21): tokenizer.json with every
 * component kind (structure-aware, plus byte edits of a real file), SentencePiece protobufs,
 * trainer_state.json and optimizer.pt as resume reads them. Same contract as targets.ts: the
 * reader succeeds or throws its own error, within the per-input time and memory budget.
 */
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonTokenizer, TokenizerConfigError, TokenizerFileError } from '../../src/tokenizers/index.js';
import { readSentencePieceModel } from '../../src/tokenizers/tokenizer-json/sentencepiece-model.js';
import { parseTrainerState, TrainerStateError } from '../../src/train/trainer-state.js';
import { JsonTextError } from '../../src/util/json-text.js';
import { checkResumeState } from '../../src/train/checkpoint.js';
import { AdamW } from '../../src/train/optimizer.js';
import { readOptimizerPt, TorchStateError, writeOptimizerPt } from '../../src/train/torch-checkpoint.js';
import { CheckpointFormatError } from '../../src/io/errors.js';
import { Tensor } from '../../src/engine/index.js';
import { fixturesDir } from '../helpers/fixtures.js';
import type { Target } from './targets.js';

/** Byte edits (overwrite, insert, cut) of a valid file. */
function mutations(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(base.length), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete'));
  // Mostly whole files with a few edits (a cut file is refused at once and reaches no deeper check).
  const cutAt = fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(base.length) });
  return fc.tuple(fc.array(edit, { minLength: 1, maxLength: 4 }), cutAt).map(([edits, cut]) => {
    const b = Array.from(cut === undefined ? base : base.subarray(0, cut));
    for (const [i, v, kind] of edits) {
      const at = i % (b.length + 1);
      if (kind === 'set' && at < b.length) b[at] = v;
      else if (kind === 'insert') b.splice(at, 0, v);
      else b.splice(at, 1);
    }
    return Uint8Array.from(b);
  });
}

const piece = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'in', '▁', '##a', '<unk>', '[UNK]', 'Ġa', 'aa', 'é', '<0x61>'),
  fc.string({ maxLength: 3 }),
);
const regex = fc.oneof(
  fc.constantFrom(
    '\\s+',
    '[.!?]',
    '\\p{N}+',
    ' ?\\p{L}+',
    '\\s{2,}|[\\n\\r\\t]',
    '(a+)+$',
    '(a|aa)+$',
    '(\\w+\\s?)+$',
    '[',
    '(?<x>a)',
    '\\',
    'a{2,1}',
    '(?i:ab)',
    '\\p{Zzz}',
  ),
  fc
    .array(fc.constantFrom('a', '+', '*', '?', '(', ')', '|', '[', ']', '\\s', '\\w', '{2}', '.', '^', '$'), { maxLength: 10 })
    .map((a) => a.join('')),
);
const pattern = fc.oneof(
  regex.map((r) => ({ Regex: r })),
  piece.map((s) => ({ String: s })),
  fc.jsonValue({ maxDepth: 1 }),
);
const behavior = fc.constantFrom('Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous', 'x');
const b = fc.boolean();

const normalizerLeaf = fc.oneof(
  fc.record({ type: fc.constant('BertNormalizer'), clean_text: b, handle_chinese_chars: b, strip_accents: fc.option(b), lowercase: b }),
  fc.constantFrom('NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'StripAccents', 'Nope').map((type) => ({ type })),
  fc.record({ type: fc.constant('Strip'), strip_left: b, strip_right: b }),
  fc.record({ type: fc.constant('Replace'), pattern, content: piece }),
  fc.record({ type: fc.constant('Prepend'), prepend: piece }),
  fc.record({ type: fc.constant('Precompiled'), precompiled_charsmap: fc.oneof(fc.base64String({ maxLength: 16 }), fc.constant(null)) }),
);
const preLeaf = fc.oneof(
  fc.constantFrom('BertPreTokenizer', 'Whitespace', 'WhitespaceSplit').map((type) => ({ type })),
  fc.record({ type: fc.constant('ByteLevel'), add_prefix_space: b, trim_offsets: b, use_regex: b }),
  fc.record({
    type: fc.constant('Metaspace'),
    replacement: fc.constantFrom('▁', '_', '__'),
    prepend_scheme: fc.constantFrom('always', 'never', 'first', 'x'),
    split: b,
  }),
  fc.record({ type: fc.constant('Punctuation'), behavior }),
  fc.record({ type: fc.constant('Split'), pattern, behavior, invert: b }),
  fc.record({ type: fc.constant('Digits'), individual_digits: b }),
);
const decoderLeaf = fc.oneof(
  fc.constantFrom('ByteLevel', 'ByteFallback', 'Fuse').map((type) => ({ type })),
  fc.record({
    type: fc.constant('Metaspace'),
    replacement: fc.constantFrom('▁', '_'),
    prepend_scheme: fc.constantFrom('always', 'never', 'first'),
    split: b,
  }),
  fc.record({ type: fc.constant('WordPiece'), prefix: piece, cleanup: b }),
  fc.record({ type: fc.constant('BPEDecoder'), suffix: piece }),
  fc.record({ type: fc.constant('Strip'), content: piece, start: fc.integer({ min: -1, max: 3 }), stop: fc.integer({ min: -1, max: 3 }) }),
  fc.record({ type: fc.constant('Replace'), pattern, content: piece }),
);
const special = fc.oneof(
  fc.integer({ min: 0, max: 13 }).map((i) => [BASE[i]!, i]),
  fc.tuple(piece, fc.integer({ min: -1, max: 12 })),
);
const postLeaf = fc.oneof(
  fc.record({ type: fc.constant('BertProcessing'), sep: special, cls: special }),
  fc.record({ type: fc.constant('RobertaProcessing'), sep: special, cls: special, trim_offsets: b, add_prefix_space: b }),
  fc.record({ type: fc.constant('ByteLevel'), trim_offsets: b }),
  fc.record({
    type: fc.constant('TemplateProcessing'),
    single: fc.constant([{ SpecialToken: { id: 'a', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }]),
    pair: fc.constant([{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }]),
    special_tokens: fc.constant({ a: { id: 'a', ids: [0], tokens: ['a'] } }),
  }),
);
/** A component or a Sequence of them, nested a little (deep nesting is its own test). */
const seq = <T>(leaf: fc.Arbitrary<T>, key: string): fc.Arbitrary<unknown> =>
  fc.oneof(
    leaf,
    fc
      .array(
        fc.oneof(
          leaf,
          fc.array(leaf, { maxLength: 2 }).map((x) => ({ type: 'Sequence', [key]: x })),
        ),
        { maxLength: 3 },
      )
      .map((x) => ({ type: 'Sequence', [key]: x })),
    fc.constant(null),
  );

/** A base every model shares (so pad/unk and the usual merges exist) plus random extra pieces. */
const BASE = ['<pad>', '<unk>', 'a', 'b', 'ab', 'i', 'n', 'in', '▁', '##a', 'Ġ', 'Ġa', 'aa', '<0x61>'];
const vocabList = fc.uniqueArray(piece, { maxLength: 8 }).map((extra) => [...BASE, ...extra.filter((t) => t !== '' && !BASE.includes(t))]);
const VALID_MERGES = ['a b', 'i n', 'Ġ a', 'a a'];
const score = fc.oneof(fc.double({ min: -20, max: 0, noNaN: true }), fc.constantFrom(0, -1e308, 1e308));
const model = fc.oneof(
  vocabList.chain((v) =>
    fc.record({
      type: fc.constant('BPE'),
      dropout: fc.constant(null),
      unk_token: fc.option(fc.constantFrom(...v)),
      continuing_subword_prefix: fc.option(fc.constantFrom('', '##')),
      end_of_word_suffix: fc.option(fc.constantFrom('', '</w>')),
      fuse_unk: b,
      byte_fallback: b,
      ignore_merges: b,
      vocab: fc.constant(Object.fromEntries(v.map((t, i) => [t, i]))),
      merges: fc.array(
        fc.oneof(
          fc.constantFrom(...VALID_MERGES),
          fc.constantFrom(...VALID_MERGES),
          fc.tuple(fc.constantFrom(...v), fc.constantFrom(...v)).map(([x, y]) => `${x} ${y}`),
        ),
        { maxLength: 6 },
      ),
    }),
  ),
  vocabList.chain((v) =>
    fc.record({
      type: fc.constant('WordPiece'),
      unk_token: fc.constantFrom(...v),
      continuing_subword_prefix: fc.constantFrom('##', ''),
      max_input_chars_per_word: fc.constantFrom(1, 100, 1e9),
      vocab: fc.constant(Object.fromEntries(v.map((t, i) => [t, i]))),
    }),
  ),
  vocabList.chain((v) =>
    fc.record({
      type: fc.constant('Unigram'),
      unk_id: fc.option(fc.integer({ min: 0, max: v.length })),
      byte_fallback: b,
      vocab: fc.array(score, { minLength: v.length, maxLength: v.length }).map((s) => v.map((t, i) => [t, s[i]])),
    }),
  ),
);
const tokenizerJson = fc
  .record({
    version: fc.constant('1.0'),
    truncation: fc.constant(null),
    padding: fc.constant(null),
    added_tokens: fc.array(
      fc
        .record({ id: fc.integer({ min: 0, max: 13 }), single_word: b, lstrip: b, rstrip: b, normalized: b, special: b })
        .map((a) => ({ ...a, content: BASE[a.id]! })),
      { maxLength: 3 },
    ),
    normalizer: seq(normalizerLeaf, 'normalizers'),
    pre_tokenizer: seq(preLeaf, 'pretokenizers'),
    post_processor: seq(postLeaf, 'processors'),
    decoder: seq(decoderLeaf, 'decoders'),
    model,
  })
  .map((j) => JSON.stringify(j));
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('a'.repeat(40) + '!', 'in'.repeat(200), 'ab ab\tab\n.!?', 'é中\u0000\u{1F600}'),
);

/** A tiny model's parameters: what readOptimizerPt matches a file against. */
function tinyOptimizer(): AdamW {
  const p = (n: number, name: string) => [name, Tensor.from(new Float32Array(n), [n])] as [string, Tensor];
  return new AdamW([p(6, 'encoder.weight'), p(3, 'encoder.bias'), p(2, 'LayerNorm.weight')], {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.01,
  });
}

export function tokenizerTargets(tmpFile: string): Target[] {
  const tok = [TokenizerFileError, TokenizerConfigError];
  const realJson = new Uint8Array(readFileSync(join(fixturesDir, 'e2e', 'modernbert', 'tokenizer.json')).subarray(0, 200_000));
  const spm = new Uint8Array(readFileSync(join(fixturesDir, 'e2e', 'xlm-roberta', 'sentencepiece.bpe.model')));
  const stateText = JSON.stringify({
    global_step: 2,
    epoch: 0.5,
    log_history: [
      { step: 1, loss: 1.2 },
      { step: 2, eval_f1: 0.5 },
    ],
    best_metric: 0.5,
    best_model_checkpoint: 'out/checkpoint-2',
    stateful_callbacks: { EarlyStoppingCallback: { attributes: { early_stopping_patience_counter: 0, best_metric: 0.5 } } },
  });
  const opt = tinyOptimizer();
  writeFileSync(tmpFile, new Uint8Array(0));
  const optPath = `${tmpFile}.optimizer.pt`;
  opt.step = 2;
  writeOptimizerPt(optPath, opt, 1e-3, 1e-3);
  const optimizerPt = new Uint8Array(readFileSync(optPath));
  const stateValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1e6, 1e12, 2, 2.5, '2', null, NaN, -1));
  return [
    {
      name: 'tokenizer-json',
      refusals: tok,
      arb: fc.tuple(
        fc.oneof(
          tokenizerJson,
          tokenizerJson,
          mutations(realJson).map((x) => Buffer.from(x).toString('utf8')),
        ),
        text,
      ),
      run: (input) => {
        const [json, t] = input as [string, string];
        const tk = new JsonTokenizer(json, 'tokenizer.json', { padToken: '<pad>', unkToken: '<unk>' });
        const enc = tk.encode(t);
        tk.decode(enc.ids);
      },
    },
    {
      name: 'sentencepiece',
      refusals: tok,
      arb: fc.oneof(mutations(spm), fc.uint8Array({ maxLength: 64 })),
      run: (x) => readSentencePieceModel(x as Uint8Array, 'spm.model'),
    },
    {
      name: 'trainer-state',
      refusals: [TrainerStateError, JsonTextError],
      arb: fc.oneof(
        mutations(new Uint8Array(Buffer.from(stateText))).map((x) => Buffer.from(x).toString('utf8')),
        fc
          .dictionary(
            fc.constantFrom(
              'global_step',
              'epoch',
              'log_history',
              'best_metric',
              'best_model_checkpoint',
              'stateful_callbacks',
              'max_steps',
            ),
            stateValue,
          )
          .map((o) => JSON.stringify({ ...JSON.parse(stateText), ...o })),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      ),
      run: (s) =>
        checkResumeState('trainer_state.json', parseTrainerState(s as string, 'trainer_state.json', ['global_step']), {
          optimizerStep: 2,
          schedulerStep: 2,
          maxSteps: 10,
        }),
    },
    {
      name: 'optimizer-pt',
      refusals: [TorchStateError, CheckpointFormatError],
      arb: mutations(optimizerPt),
      run: (x) => {
        writeFileSync(optPath, x as Uint8Array);
        readOptimizerPt(optPath, tinyOptimizer());
      },
    },
  ];
}
