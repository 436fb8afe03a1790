/**
 * The token-classification pipeline: text -> tokens (with character offsets) -> windows of at
 * most the model's length -> padded batches -> one forward per batch -> per-token probabilities
 * (each token from the window where it is most central) -> HF's aggregation and filtering.
 *
 * Output follows transformers' TokenClassificationPipeline (see aggregation.ts), except that a
 * text longer than the model is never truncated: it is windowed (HF needs `stride` for that and
 * merges overlapping entities afterwards; here tokens are merged before aggregation, so the
 * result of a short text is exactly that of a single pass).
 */
import { basename, resolve } from 'node:path';
import { noGrad, packForInference, tidy, type Tensor } from '../engine/index.js';
import { fromPretrained, type ForwardOptions, type TokenBatch } from '../models/index.js';
import { usableSequenceLength } from '../models/sequence-limit.js';
import type { Encoding, EncodeOptions } from '../tokenizers/index.js';
import { joinWordPieces } from '../tokenizers/decode.js';
import {
  aggregate,
  gatherPreEntities,
  isAggregationStrategy,
  softmaxRows,
  AGGREGATION_STRATEGIES,
  type AggregationStrategy,
  type Entity,
  type TokenText,
} from './aggregation.js';
import { planTokenWindows, defaultStride, type TokenWindow } from './token-windows.js';
import { tagWords, type WordTag } from './word-tags.js';

/** What the pipeline needs from a model (a TokenClassifier, or a fake one in tests). */
export interface PipelineModel {
  readonly config: { readonly labels: readonly string[]; readonly maxPositionEmbeddings: number };
  /** Longest input the model takes when it is not max_position_embeddings (RoBERTa). */
  readonly maxSequenceLength?: number;
  /** Logits [batchSize * seqLen, numLabels]. */
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor;
}

/** What the pipeline needs from a tokenizer (WordPieceTokenizer has all of it). */
export interface PipelineTokenizer {
  encode(text: string, opts?: EncodeOptions): Encoding;
  encodeWords(words: readonly string[], opts?: EncodeOptions): Encoding;
  convertIdsToTokens(id: number): string;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly modelMaxLength: number;
  /** HF convert_tokens_to_string; when absent, the WordPiece decoder with "##" and cleanup. */
  convertTokensToString?(tokens: readonly string[]): string;
  /** How the pipeline tells subwords (see TokenText); absent: "##", WordPiece's. */
  readonly continuingSubwordPrefix?: string | null;
}

export interface PipelineOptions {
  /** Default aggregation for predict() (HF's default: 'none'). */
  aggregationStrategy?: AggregationStrategy;
  /** Default labels to drop after grouping (HF: ['O']). */
  ignoreLabels?: readonly string[];
  /** Windows (texts or parts of long texts) per forward call. Default 16. */
  batchSize?: number;
  /** Tokens shared by consecutive windows of a long text. Default: a quarter of the window. */
  stride?: number;
  /** Longest sequence fed to the model, [CLS] and [SEP] included. Default: min(tokenizer, model) limit. */
  maxLength?: number;
  /** A name for reports (/health). Default: the model folder's name. */
  name?: string;
}

export interface PostprocessOptions {
  aggregationStrategy?: AggregationStrategy;
  ignoreLabels?: readonly string[];
}

export interface RunOptions {
  stride?: number;
  batchSize?: number;
  /** Checked between forward calls: once aborted, the rest of the work is skipped and the call rejects. */
  signal?: AbortSignal;
}

export interface PredictOptions extends PostprocessOptions, RunOptions {
  /** Input is pre-tokenized (string[] for one sentence, string[][] for several): one tag per word. */
  isSplitIntoWords?: boolean;
}

/** One text with its own post-processing options (the server batches requests that differ). */
export interface TextRequest extends PostprocessOptions {
  text: string;
}

export class PipelineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineInputError';
  }
}

/** A tokenized input and, after the forward passes, the logits of each of its tokens. */
interface Pending {
  enc: Encoding;
  windows: TokenWindow[];
  logits: Float32Array;
}

/** One window of one input: a row of a forward batch. */
interface Job {
  input: Pending;
  window: TokenWindow;
  length: number;
}

export class TokenClassificationPipeline {
  readonly labels: readonly string[];
  readonly maxLength: number;
  readonly name: string;
  /** Forward calls made so far (the server reports it; tests count batching with it). */
  forwardCalls = 0;
  private readonly defaults: Required<Pick<PipelineOptions, 'aggregationStrategy' | 'ignoreLabels' | 'batchSize'>> & { stride?: number };
  private readonly text: TokenText;

  constructor(
    readonly model: PipelineModel,
    readonly tokenizer: PipelineTokenizer,
    opts: PipelineOptions = {},
  ) {
    this.labels = model.config.labels;
    if (this.labels.length === 0) {
      throw new PipelineInputError('the model has no labels (config.json lacks id2label): it is not a token-classification model');
    }
    const limit = Math.min(opts.maxLength ?? tokenizer.modelMaxLength, usableSequenceLength(model));
    if (!Number.isInteger(limit) || limit < 3) {
      throw new PipelineInputError(`maxLength must be an integer >= 3 ([CLS], one token, [SEP]), got ${limit}`);
    }
    this.maxLength = limit;
    this.name = opts.name ?? 'model';
    this.defaults = {
      aggregationStrategy: checkStrategy(opts.aggregationStrategy ?? 'none'),
      ignoreLabels: opts.ignoreLabels ?? ['O'],
      batchSize: checkBatchSize(opts.batchSize ?? 16),
      stride: opts.stride === undefined ? undefined : this.checkStride(opts.stride),
    };
    const convert = tokenizer.convertTokensToString?.bind(tokenizer);
    this.text = {
      unkId: tokenizer.unkId,
      convertIdsToTokens: (id) => tokenizer.convertIdsToTokens(id),
      tokensToString: convert ?? ((tokens) => joinWordPieces(tokens, '##', true)),
      continuingSubwordPrefix: tokenizer.continuingSubwordPrefix,
    };
  }

  predict(input: string, opts?: PredictOptions & { isSplitIntoWords?: false }): Promise<Entity[]>;
  predict(input: readonly string[], opts?: PredictOptions & { isSplitIntoWords?: false }): Promise<Entity[][]>;
  predict(input: readonly string[], opts: PredictOptions & { isSplitIntoWords: true }): Promise<WordTag[]>;
  predict(input: readonly (readonly string[])[], opts: PredictOptions & { isSplitIntoWords: true }): Promise<WordTag[][]>;
  predict(
    input: string | readonly string[] | readonly (readonly string[])[],
    opts?: PredictOptions,
  ): Promise<Entity[] | Entity[][] | WordTag[] | WordTag[][]>;
  async predict(
    input: string | readonly string[] | readonly (readonly string[])[],
    opts: PredictOptions = {},
  ): Promise<Entity[] | Entity[][] | WordTag[] | WordTag[][]> {
    if (opts.isSplitIntoWords) {
      if (!Array.isArray(input)) throw new PipelineInputError('isSplitIntoWords: the input must be a list of words (or a list of lists)');
      const many = input.length > 0 && Array.isArray(input[0]);
      const sentences = (many ? input : [input]) as readonly (readonly string[])[];
      const out = await this.predictWords(sentences, opts);
      return many ? out : out[0]!;
    }
    if (typeof input === 'string') return (await this.predictTexts([input], opts))[0]!;
    if (!Array.isArray(input)) throw new PipelineInputError('input must be a string or a list of strings');
    return this.predictTexts(input as readonly string[], opts);
  }

  /** Entities for each text, with the same options for all. */
  async predictTexts(texts: readonly string[], opts: PredictOptions = {}): Promise<Entity[][]> {
    const post = { aggregationStrategy: opts.aggregationStrategy, ignoreLabels: opts.ignoreLabels };
    return this.predictMany(
      texts.map((text, i) => {
        if (typeof text !== 'string') throw new PipelineInputError(`input ${i} is ${typeof text}, not a string`);
        return { text, ...post };
      }),
      opts,
    );
  }

  /** Entities for each request, every request with its own aggregation; windows share forward calls. */
  async predictMany(requests: readonly TextRequest[], run: RunOptions = {}): Promise<Entity[][]> {
    const strategies = requests.map((r) => checkStrategy(r.aggregationStrategy ?? this.defaults.aggregationStrategy));
    const pending = requests.map((r) => this.prepare(this.tokenizer.encode(r.text, { addSpecialTokens: false }), run));
    await this.infer(pending, run);
    return requests.map((r, i) => {
      const strategy = strategies[i]!;
      const p = pending[i]!;
      const scores = softmaxRows(p.logits, p.enc.ids.length, this.labels.length);
      const tokens = p.enc.ids.map((id, t) => ({
        id,
        start: p.enc.offsets[t]![0],
        end: p.enc.offsets[t]![1],
        index: t + 1,
        scores: scores[t]!,
      }));
      const pre = gatherPreEntities(r.text, tokens, this.text);
      return aggregate(pre, strategy, this.labels, this.text, r.ignoreLabels ?? this.defaults.ignoreLabels);
    });
  }

  /**
   * One tag per word of pre-tokenized sentences (each word tokenized on its own, as HF's
   * is_split_into_words). Offsets are into the words joined by single spaces.
   */
  async predictWords(sentences: readonly (readonly string[])[], opts: PredictOptions = {}): Promise<WordTag[][]> {
    const strategy = checkStrategy(opts.aggregationStrategy ?? this.defaults.aggregationStrategy);
    const pending = sentences.map((words, i) => {
      if (!Array.isArray(words)) throw new PipelineInputError(`sentence ${i} is not a list of words`);
      return this.prepare(this.tokenizer.encodeWords(words, { addSpecialTokens: false }), opts);
    });
    await this.infer(pending, opts);
    return sentences.map((words, i) => {
      const p = pending[i]!;
      let pos = 0;
      const spans = words.map((word) => {
        const span = { word, start: pos, end: pos + word.length };
        pos += word.length + 1;
        return span;
      });
      return tagWords(spans, p.enc.wordIds, softmaxRows(p.logits, p.enc.ids.length, this.labels.length), strategy, this.labels);
    });
  }

  /** One tag per pre-tokenized word of raw texts (the tokenizer's words: punctuation apart). */
  async tagTextWords(texts: readonly string[], opts: PredictOptions = {}): Promise<WordTag[][]> {
    const strategy = checkStrategy(opts.aggregationStrategy ?? this.defaults.aggregationStrategy);
    const pending = texts.map((t) => this.prepare(this.tokenizer.encode(t, { addSpecialTokens: false }), opts));
    await this.infer(pending, opts);
    return texts.map((text, i) => {
      const { enc, logits } = pending[i]!;
      const spans: { word: string; start: number; end: number }[] = [];
      const wordIds: number[] = [];
      enc.wordIds.forEach((w, t) => {
        const [s, e] = enc.offsets[t]!;
        if (w !== null && (t === 0 || enc.wordIds[t - 1] !== w)) spans.push({ word: '', start: s, end: e });
        const last = spans[spans.length - 1]!;
        last.end = Math.max(last.end, e);
        wordIds.push(spans.length - 1);
      });
      for (const s of spans) s.word = text.slice(s.start, s.end);
      return tagWords(spans, wordIds, softmaxRows(logits, enc.ids.length, this.labels.length), strategy, this.labels);
    });
  }

  /** Windows for one encoded input (no special tokens). */
  private prepare(enc: Encoding, run: RunOptions): Pending {
    const budget = this.maxLength - 2;
    const stride = run.stride === undefined ? (this.defaults.stride ?? defaultStride(budget)) : this.checkStride(run.stride);
    const n = enc.ids.length;
    const windows = n === 0 ? [] : planTokenWindows(n, budget, stride);
    return { enc, windows, logits: new Float32Array(n * this.labels.length) };
  }

  /** Runs every window of every input, batchSize windows per forward call, longest first. */
  private async infer(inputs: readonly Pending[], run: RunOptions): Promise<void> {
    const batchSize = run.batchSize === undefined ? this.defaults.batchSize : checkBatchSize(run.batchSize);
    const jobs: Job[] = [];
    for (const input of inputs) for (const window of input.windows) jobs.push({ input, window, length: window.end - window.start + 2 });
    // Similar lengths together: less padding. Stable, so equal lengths keep input order.
    jobs.sort((a, b) => b.length - a.length);
    for (let b = 0; b < jobs.length; b += batchSize) {
      if (b > 0) await new Promise<void>((r) => setImmediate(r)); // let the server breathe between batches
      run.signal?.throwIfAborted();
      this.runBatch(jobs.slice(b, b + batchSize));
    }
  }

  private runBatch(jobs: readonly Job[]): void {
    const L = this.labels.length;
    const T = jobs[0]!.length;
    const B = jobs.length;
    const inputIds = new Int32Array(B * T).fill(this.tokenizer.padId);
    const attentionMask = new Int32Array(B * T);
    jobs.forEach((j, r) => {
      const o = r * T;
      inputIds[o] = this.tokenizer.clsId;
      const ids = j.input.enc.ids;
      for (let t = j.window.start; t < j.window.end; t++) inputIds[o + 1 + t - j.window.start] = ids[t]!;
      inputIds[o + j.length - 1] = this.tokenizer.sepId;
      attentionMask.fill(1, o, o + j.length);
    });
    this.forwardCalls++;
    const logits = noGrad(() =>
      tidy(() => {
        const out = this.model.forward({ inputIds, attentionMask, batchSize: B, seqLen: T }, { training: false, skipPadding: true });
        if (out.shape.length !== 2 || out.shape[0] !== B * T || out.shape[1] !== L) {
          throw new Error(`the model returned logits of shape [${out.shape.join(', ')}], expected [${B * T}, ${L}]`);
        }
        const f = out.f;
        return f instanceof Float32Array ? f.slice() : Float32Array.from(f); // copied out before tidy frees it
      }),
    );
    jobs.forEach((j, r) => {
      const { start, ownStart, ownEnd } = j.window;
      const from = (r * T + 1 + ownStart - start) * L;
      j.input.logits.set(logits.subarray(from, from + (ownEnd - ownStart) * L), ownStart * L);
    });
  }

  private checkStride(stride: number): number {
    const budget = this.maxLength - 2;
    if (!Number.isInteger(stride) || stride < 0 || stride >= budget) {
      throw new PipelineInputError(
        `stride must be an integer in [0, ${budget - 1}] (the windows hold ${budget} tokens besides [CLS] and [SEP]), got ${stride}`,
      );
    }
    return stride;
  }
}

function checkStrategy(s: unknown): AggregationStrategy {
  if (!isAggregationStrategy(s)) {
    throw new PipelineInputError(`aggregation strategy must be one of ${AGGREGATION_STRATEGIES.join(', ')}, got ${JSON.stringify(s)}`);
  }
  return s;
}

function checkBatchSize(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new PipelineInputError(`batchSize must be a positive integer, got ${n}`);
  return n;
}

export interface LoadPipelineOptions extends PipelineOptions {
  /** Warnings while loading (default: stderr). */
  onWarning?: (message: string) => void;
  /**
   * Pack the linear weights once for the kernels (engine/packed-weights.ts) instead of on every
   * forward pass: 12 to 19% faster linear layers at batch 1 on the AVX-512 kernels, 0 to 6% on AVX2
   * (`npm run bench -- gemm-packed`), for the encoder's weights once more in memory.
   * Default true.
   */
  packWeights?: boolean;
}

/** Loads a model folder (or hub id) and its tokenizer into a pipeline. */
export async function pipeline(modelDirOrName: string, opts: LoadPipelineOptions = {}): Promise<TokenClassificationPipeline> {
  const { model, tokenizer, dir } = await fromPretrained(modelDirOrName, { onWarning: opts.onWarning });
  if (opts.packWeights ?? true) packForInference(model.params.values());
  return new TokenClassificationPipeline(model, tokenizer, { ...opts, name: opts.name ?? basename(resolve(dir)) });
}
