/**
 * Running an exported model with onnxruntime-node, which is an optional (development)
 * dependency: it is loaded on demand, and `loadOnnxRuntime()` returns null when it is absent,
 * so the export itself never needs it. The types below are the small part of its API we use.
 */
import { Rng, noGrad, tidy } from '../../engine/index.js';
import type { TokenBatch, TokenClassifier } from '../../models/index.js';
import { usableSequenceLength } from '../../models/sequence-limit.js';

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface OrtModule {
  InferenceSession: { create(pathOrBytes: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: readonly number[]) => OrtTensor;
}

/** onnxruntime-node, or null when it is not installed. Other load errors are rethrown. */
export async function loadOnnxRuntime(): Promise<OrtModule | null> {
  // A specifier in a variable keeps tsc from requiring the package's types at build time.
  const name = 'onnxruntime-node';
  try {
    const m = (await import(name)) as { default?: OrtModule } & Partial<OrtModule>;
    return (m.InferenceSession ? m : m.default) as OrtModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

/** Logits [B, T, numLabels] (flat) from onnxruntime for a padded batch. */
export async function onnxLogits(ort: OrtModule, session: OrtSession, batch: TokenBatch): Promise<Float32Array> {
  const dims = [batch.batchSize, batch.seqLen];
  const i64 = (a: Int32Array) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(a, (v) => BigInt(v)),
      dims,
    );
  const feeds: Record<string, OrtTensor> = {
    input_ids: i64(batch.inputIds),
    attention_mask: i64(batch.attentionMask),
  };
  // Only BERT's graph takes token types (RoBERTa's and DistilBERT's have no such input).
  if (session.inputNames.includes('token_type_ids'))
    feeds.token_type_ids = i64(batch.tokenTypeIds ?? new Int32Array(batch.inputIds.length));
  const out = await session.run(feeds);
  const logits = out['logits'];
  if (!logits || !(logits.data instanceof Float32Array)) throw new Error('the ONNX model returned no float32 "logits" output');
  return logits.data;
}

/** Our own logits [B * T, numLabels] (flat), copied out of the tidy scope. */
export function ourLogits(model: TokenClassifier, batch: TokenBatch): Float32Array {
  return noGrad(() => tidy(() => Float32Array.from(model.forward(batch, { training: false }).f)));
}

/**
 * A random padded batch: row 0 full length, later rows shorter (pads = pad id, mask 0), and the
 * second part of each row marked token type 1 when the model is a BERT with two token types.
 */
export function randomBatch(model: TokenClassifier, batchSize: number, seqLen: number, seed = 1): TokenBatch {
  const cfg = model.config;
  const rng = Rng.fromSeed(seed);
  const n = batchSize * seqLen;
  const inputIds = new Int32Array(n).fill(cfg.padTokenId);
  const attentionMask = new Int32Array(n);
  const tokenTypeIds = new Int32Array(n);
  for (let b = 0; b < batchSize; b++) {
    const len = b === 0 ? seqLen : 1 + rng.nextInt(seqLen);
    // Only BERT's graph has a token_type_ids input (RoBERTa's embeds type 0, as optimum exports it).
    const second = cfg.typeVocabSize > 1 && cfg.modelType === 'bert' ? Math.floor(len / 2) : len;
    for (let t = 0; t < len; t++) {
      inputIds[b * seqLen + t] = rng.nextInt(cfg.vocabSize);
      attentionMask[b * seqLen + t] = 1;
      if (t >= second) tokenTypeIds[b * seqLen + t] = 1;
    }
  }
  return { inputIds, attentionMask, tokenTypeIds, batchSize, seqLen };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cannot compare ${a.length} values with ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export interface VerifyResult {
  maxAbsDiff: number;
  batchSize: number;
  seqLen: number;
}

/** Runs a random padded batch through our model and through onnxruntime on `onnxPath`. */
export async function verifyWithOnnxRuntime(
  ort: OrtModule,
  model: TokenClassifier,
  onnxPath: string,
  opts: { batchSize?: number; seqLen?: number; seed?: number } = {},
): Promise<VerifyResult> {
  const batchSize = opts.batchSize ?? 3;
  const seqLen = Math.min(opts.seqLen ?? 16, usableSequenceLength(model));
  const batch = randomBatch(model, batchSize, seqLen, opts.seed ?? 1);
  const session = await ort.InferenceSession.create(onnxPath);
  try {
    const theirs = await onnxLogits(ort, session, batch);
    return { maxAbsDiff: maxAbsDiff(ourLogits(model, batch), theirs), batchSize, seqLen };
  } finally {
    await session.release();
  }
}
