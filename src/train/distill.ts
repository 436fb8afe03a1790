/**
 * Knowledge distillation for token classification: the teacher's logits become soft targets
 * attached to the student's features, and a TrainingObjective (trainer.ts) mixes the KL to them
 * with the gold cross-entropy (distill-loss.ts).
 *
 * Teacher and student need not share a tokenizer. With different tokenizers the targets attach to
 * words: the teacher's logits at each word's first sub-token (in the window that owns the word)
 * go to the student's first sub-token of the same word. With the same tokenizer the teacher runs
 * on the student's own features and every token that carries a gold label (or starts a word)
 * gets the teacher's logits at that very token.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, noGrad, tidy, clearPool } from '../engine/index.js';
import { collate, type Batch } from '../data/collate.js';
import { buildFeatures, type Feature } from '../data/features.js';
import { WordPieceCache, type WordTokenizer } from '../data/align.js';
import type { TokenClassifier } from '../models/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { getHalfTable, numberToHalfBits } from '../io/dtype-decode.js';
import { distillationLoss, type DistillLossOptions } from './distill-loss.js';
import type { HiddenProjections } from './distill-hidden.js';
import type { TrainingObjective } from './trainer.js';
import { DistillSetupError } from './distill-errors.js';

/** Soft targets of one student feature: token positions and the teacher's logits there (student label order). */
export interface SoftTargets {
  positions: Int32Array;
  /** [positions.length, numLabels] */
  logits: Float32Array;
  /**
   * Hidden-state matching: the teacher's hidden states of the mapped layers at the same tokens,
   * IEEE half bit patterns [positions.length, layers * teacherHidden] (layer-major within a row).
   */
  hidden?: Uint16Array;
}

/**
 * For each student label, the teacher's index of the same name. The two label sets must be equal
 * as sets (order may differ); otherwise an error names both.
 */
export function mapLabelsByName(teacher: readonly string[], student: readonly string[]): Int32Array {
  const index = new Map(teacher.map((l, i) => [l, i]));
  const same = teacher.length === student.length && student.every((l) => index.has(l)) && new Set(student).size === student.length;
  if (!same) {
    throw new DistillSetupError(
      `teacher and student label sets differ: teacher [${teacher.join(', ')}], student [${student.join(', ')}]` +
        ' (labels are matched by name; the order may differ)',
    );
  }
  return Int32Array.from(student, (l) => index.get(l)!);
}

/** True where token t starts a word (the first sub-token, the one training labels). */
export function firstSubTokens(wordIds: Int32Array): Uint8Array {
  const out = new Uint8Array(wordIds.length);
  for (let t = 0; t < wordIds.length; t++) if (wordIds[t]! >= 0 && (t === 0 || wordIds[t - 1] !== wordIds[t])) out[t] = 1;
  return out;
}

/**
 * Whether two tokenizers split every word of `words` into the same ids with the same specials:
 * then token-level targets are exact and the teacher can run on the student's own features.
 */
export function sameTokenization(a: WordTokenizer, b: WordTokenizer, words: Iterable<string>): boolean {
  if (a.clsId !== b.clsId || a.sepId !== b.sepId || a.padId !== b.padId || a.unkId !== b.unkId) return false;
  const ca = new WordPieceCache(a),
    cb = new WordPieceCache(b);
  const seen = new Set<string>();
  for (const w of words) {
    if (seen.has(w)) continue;
    seen.add(w);
    const pa = ca.pieces(w),
      pb = cb.pieces(w);
    if (pa.length !== pb.length || pa.some((v, i) => v !== pb[i])) return false;
  }
  return true;
}

/**
 * Runs the teacher over features (no gradients, batches sorted by length) and hands each feature's
 * logits to `take`, with the hidden states [B*T, H] of `hiddenLayers` (0 = embeddings) when asked.
 */
function runTeacher(
  teacher: TokenClassifier,
  features: readonly Feature[],
  padId: number,
  batchSize: number,
  take: (f: Feature, logits: Float32Array, row: number, seqLen: number, hidden: Float32Array[]) => void,
  onProgress?: (done: number, total: number) => void,
  hiddenLayers: readonly number[] = [],
): void {
  const order = features.map((_, i) => i).sort((x, y) => features[x]!.inputIds.length - features[y]!.inputIds.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const fs = order.slice(s, s + batchSize).map((i) => features[i]!);
    const batch = collate(fs, padId);
    noGrad(() =>
      tidy(() => {
        const states: Tensor[] = [];
        const logits = teacher.forward(batch, {
          training: false,
          skipPadding: true,
          ...(hiddenLayers.length ? { hiddenStates: states } : {}),
        }).f as Float32Array;
        if (hiddenLayers.length) checkHiddenStates(teacher, states, 'teacher');
        const hidden = hiddenLayers.map((l) => states[l]!.f as Float32Array);
        fs.forEach((f, b) => take(f, logits, b, batch.seqLen, hidden));
      }),
    );
    onProgress?.(Math.min(s + batchSize, order.length), order.length);
  }
  clearPool();
}

/** The model's forward filled `states` with HF's hidden_states (embeddings + every layer), or an error says it cannot. */
export function checkHiddenStates(model: TokenClassifier, states: readonly Tensor[], role: string): void {
  if (states.length !== model.config.numHiddenLayers + 1) {
    throw new DistillSetupError(
      `hidden-state matching: the ${role} (${model.architecture}) returned ${states.length} hidden states, expected ${model.config.numHiddenLayers + 1} (embeddings + ${model.config.numHiddenLayers} layers); this architecture does not support --layer-map`,
    );
  }
}

export interface TeacherSpec {
  model: TokenClassifier;
  tokenizer: WordTokenizer;
  /** For each student label, the teacher's label index. */
  labelMap: Int32Array;
  maxSeqLength: number;
  batchSize: number;
  /** Teacher layers (0 = embeddings output) whose hidden states go into the targets (hidden-state matching). */
  hiddenLayers?: readonly number[];
}

/** Copies the mapped layers' hidden states at flat row `r` into `out` at `o`, as half bits. */
function putHidden(out: Uint16Array, o: number, hidden: readonly Float32Array[], r: number, H: number): void {
  hidden.forEach((h, l) => {
    for (let j = 0; j < H; j++) out[o + l * H + j] = numberToHalfBits(h[r * H + j]!);
  });
}

/**
 * Token-level targets (same tokenizer): the teacher runs on the student's features; targets at
 * every token with a gold label or starting a word.
 */
export function tokenLevelTargets(
  teacher: TeacherSpec,
  features: readonly Feature[],
  onProgress?: (done: number, total: number) => void,
): SoftTargets[] {
  const C = teacher.labelMap.length,
    tc = teacher.model.numLabels;
  const out: SoftTargets[] = new Array(features.length);
  const index = new Map(features.map((f, i) => [f, i]));
  const layers = teacher.hiddenLayers ?? [],
    H = teacher.model.config.hiddenSize,
    LH = layers.length * H;
  runTeacher(
    teacher.model,
    features,
    teacher.tokenizer.padId,
    teacher.batchSize,
    (f, logits, row, T, hidden) => {
      const first = firstSubTokens(f.wordIds);
      const pos: number[] = [];
      for (let t = 0; t < f.inputIds.length; t++) if (f.labels[t] !== -100 || first[t]) pos.push(t);
      const lg = new Float32Array(pos.length * C);
      const hd = layers.length ? new Uint16Array(pos.length * LH) : undefined;
      pos.forEach((t, k) => {
        const o = (row * T + t) * tc;
        for (let j = 0; j < C; j++) lg[k * C + j] = logits[o + teacher.labelMap[j]!]!;
        if (hd) putHidden(hd, k * LH, hidden, row * T + t, H);
      });
      out[index.get(f)!] = { positions: Int32Array.from(pos), logits: lg, ...(hd ? { hidden: hd } : {}) };
    },
    onProgress,
    layers,
  );
  return out;
}

/**
 * Word-level targets (different tokenizers): the teacher tokenizes the sentences itself; each
 * word's logits come from its first sub-token in the window that owns it, and go to the
 * student's first sub-token of that word in every student window.
 */
export function wordLevelTargets(
  teacher: TeacherSpec,
  sentences: readonly { tokens: readonly string[] }[],
  features: readonly Feature[],
  onProgress?: (done: number, total: number) => void,
): SoftTargets[] {
  const C = teacher.labelMap.length,
    tc = teacher.model.numLabels;
  const { features: tf } = buildFeatures({ sentences }, teacher.tokenizer, null, { maxSeqLength: teacher.maxSeqLength });
  const words: (Float32Array | undefined)[] = sentences.map(() => undefined);
  const layers = teacher.hiddenLayers ?? [],
    H = teacher.model.config.hiddenSize,
    LH = layers.length * H;
  const wordHidden: (Uint16Array | undefined)[] = sentences.map(() => undefined);
  runTeacher(
    teacher.model,
    tf,
    teacher.tokenizer.padId,
    teacher.batchSize,
    (f, logits, row, T, hidden) => {
      const first = firstSubTokens(f.wordIds);
      const n = sentences[f.sentenceIndex]!.tokens.length;
      const w = (words[f.sentenceIndex] ??= new Float32Array(n * C).fill(Number.NaN));
      const wh = LH ? (wordHidden[f.sentenceIndex] ??= new Uint16Array(n * LH)) : undefined;
      for (let t = 0; t < f.inputIds.length; t++) {
        const wid = f.wordIds[t]!;
        if (!first[t] || wid < f.ownedWordStart || wid >= f.ownedWordEnd) continue;
        const o = (row * T + t) * tc;
        for (let j = 0; j < C; j++) w[wid * C + j] = logits[o + teacher.labelMap[j]!]!;
        if (wh) putHidden(wh, wid * LH, hidden, row * T + t, H);
      }
    },
    onProgress,
    layers,
  );
  return features.map((f) => {
    const first = firstSubTokens(f.wordIds);
    const w = words[f.sentenceIndex],
      wh = wordHidden[f.sentenceIndex];
    const pos: number[] = [];
    for (let t = 0; t < f.inputIds.length; t++) if (first[t] && w && !Number.isNaN(w[f.wordIds[t]! * C]!)) pos.push(t);
    const lg = new Float32Array(pos.length * C);
    pos.forEach((t, k) => lg.set(w!.subarray(f.wordIds[t]! * C, (f.wordIds[t]! + 1) * C), k * C));
    if (!wh) return { positions: Int32Array.from(pos), logits: lg };
    const hd = new Uint16Array(pos.length * LH);
    pos.forEach((t, k) => hd.set(wh.subarray(f.wordIds[t]! * LH, (f.wordIds[t]! + 1) * LH), k * LH));
    return { positions: Int32Array.from(pos), logits: lg, hidden: hd };
  });
}

// --- cache on disk ----------------------------------------------------------------------------

/** A stable identity of a model folder: hash of its config and weight files (name, size, bytes). */
export function modelFolderHash(dir: string): string {
  const h = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (!/^(config\.json|model.*\.safetensors(\.index\.json)?|pytorch_model.*\.bin(\.index\.json)?|int8\.json)$/.test(name)) continue;
    h.update(name)
      .update('\0')
      .update(readFileSync(join(dir, name)));
  }
  return h.digest('hex');
}

export function fileHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const MAGIC = 'tokentune-soft-targets-1';

/**
 * Soft targets for `features`, from `<dir>/<key>.bin` when an earlier run (a resumed one) wrote
 * it, else computed and written there. The key hashes everything the targets depend on.
 */
export function cachedTargets(
  dir: string,
  keyParts: readonly string[],
  features: readonly Feature[],
  classes: number,
  compute: () => SoftTargets[],
  hiddenWidth = 0,
): { targets: SoftTargets[]; cached: boolean; path: string } {
  const key = createHash('sha256').update(keyParts.join('\n')).digest('hex').slice(0, 32);
  const path = join(dir, `${key}.bin`);
  if (existsSync(path) && statSync(path).isFile()) {
    const t = readTargets(path, features, classes, hiddenWidth);
    if (t) return { targets: t, cached: true, path };
  }
  const targets = compute();
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path, encodeTargets(targets, classes, hiddenWidth));
  return { targets, cached: false, path };
}

/** Layout: int32 header length, JSON header, padding to 4, counts, positions, float32 logits, then (hidden > 0) half hidden states. */
function encodeTargets(targets: readonly SoftTargets[], C: number, hidden: number): Uint8Array {
  const counts = Int32Array.from(targets, (t) => t.positions.length);
  const totalPos = counts.reduce((a, b) => a + b, 0);
  const header = Buffer.from(JSON.stringify({ magic: MAGIC, features: targets.length, positions: totalPos, classes: C, hidden }));
  const head = new Int32Array([header.length]);
  const pos = new Int32Array(totalPos),
    lg = new Float32Array(totalPos * C),
    hd = new Uint16Array(totalPos * hidden);
  let p = 0;
  for (const t of targets) {
    pos.set(t.positions, p);
    lg.set(t.logits, p * C);
    if (hidden) hd.set(t.hidden!, p * hidden);
    p += t.positions.length;
  }
  const pad = (4 - (header.length % 4)) % 4;
  return Buffer.concat([
    Buffer.from(head.buffer),
    header,
    Buffer.alloc(pad),
    Buffer.from(counts.buffer),
    Buffer.from(pos.buffer),
    Buffer.from(lg.buffer),
    Buffer.from(hd.buffer),
  ]);
}

/** The targets of a cache file, or null when it does not fit these features (then it is recomputed). */
function readTargets(path: string, features: readonly Feature[], classes: number, hidden: number): SoftTargets[] | null {
  try {
    const buf = readFileSync(path);
    const hl = buf.readInt32LE(0);
    const h = JSON.parse(buf.subarray(4, 4 + hl).toString('utf8')) as {
      magic: string;
      features: number;
      positions: number;
      classes: number;
      hidden?: number;
    };
    if (h.magic !== MAGIC || h.features !== features.length || h.classes !== classes || (h.hidden ?? 0) !== hidden) return null;
    let o = 4 + hl + ((4 - (hl % 4)) % 4);
    const ints = (n: number): Int32Array => {
      const a = new Int32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(o, o + 4 * n));
      o += 4 * n;
      return a;
    };
    const counts = ints(h.features);
    const pos = ints(h.positions);
    const lg = new Float32Array(h.positions * h.classes);
    Buffer.from(lg.buffer).set(buf.subarray(o, o + 4 * lg.length));
    o += 4 * lg.length;
    const hd = new Uint16Array(h.positions * hidden);
    Buffer.from(hd.buffer).set(buf.subarray(o, o + 2 * hd.length));
    if (o + 2 * hd.length !== buf.length) return null;
    let p = 0;
    return features.map((f, i) => {
      const n = counts[i]!;
      const t: SoftTargets = {
        positions: pos.subarray(p, p + n),
        logits: lg.subarray(p * h.classes, (p + n) * h.classes),
        ...(hidden ? { hidden: hd.subarray(p * hidden, (p + n) * hidden) } : {}),
      };
      for (const q of t.positions) if (q < 0 || q >= f.inputIds.length) throw new Error('position out of range');
      p += n;
      return t;
    });
  } catch {
    return null;
  }
}

// --- the objective ----------------------------------------------------------------------------

export interface DistillObjectiveOptions {
  temperature: number;
  alpha: number;
  numLabels: number;
  /** Hidden-state matching: the targets carry the teacher's mapped layers (teacherHidden wide each). */
  hidden?: { weight: number; projections: HiddenProjections; teacherHidden: number };
}

/**
 * The Trainer's loss for distillation. Each feature's soft targets come from `targets`; the
 * micro-batch weight is its rows with a soft target (gold rows where there are none).
 */
export class DistillObjective implements TrainingObjective {
  readonly extraState?: TrainingObjective['extraState'];

  constructor(
    private readonly targets: Map<Feature, SoftTargets>,
    private readonly opts: DistillObjectiveOptions,
  ) {
    const p = opts.hidden?.projections;
    if (p) this.extraState = { step: (lr, clip) => p.step(lr, clip), save: (dir) => p.save(dir), load: (dir) => p.load(dir) };
  }

  weight(batch: Batch): number {
    let soft = 0,
      gold = 0;
    for (const f of batch.features) soft += this.targets.get(f)?.positions.length ?? 0;
    for (const y of batch.labels) if (y !== -100) gold++;
    return soft > 0 ? soft : this.opts.alpha < 1 ? gold : 0;
  }

  loss(model: TokenClassifier, batch: Batch, forward: { training: true; dropoutSeed: number; skipPadding?: boolean }): Tensor {
    const C = this.opts.numLabels,
      T = batch.seqLen;
    const teacher = new Float32Array(batch.batchSize * T * C);
    const mask = new Uint8Array(batch.batchSize * T);
    batch.features.forEach((f, b) => {
      const st = this.targets.get(f);
      if (!st) return;
      st.positions.forEach((t, k) => {
        mask[b * T + t] = 1;
        teacher.set(st.logits.subarray(k * C, (k + 1) * C), (b * T + t) * C);
      });
    });
    const h = this.opts.hidden;
    const states: Tensor[] = [];
    const logits = model.forward(batch, h ? { ...forward, hiddenStates: states } : forward);
    let hidden: DistillLossOptions['hidden'];
    if (h) {
      checkHiddenStates(model, states, 'student');
      const H = h.teacherHidden,
        map = h.projections.map,
        LH = map.length * H,
        half = getHalfTable();
      hidden = {
        weight: h.weight,
        pairs: map.map(([s], l) => {
          const dense = new Float32Array(batch.batchSize * T * H);
          batch.features.forEach((f, b) => {
            const st = this.targets.get(f);
            if (!st) return;
            if (!st.hidden)
              throw new Error('hidden-state matching: a soft target has no teacher hidden states (cache written without --layer-map?)');
            st.positions.forEach((t, k) => {
              const o = (b * T + t) * H,
                src = k * LH + l * H;
              for (let j = 0; j < H; j++) dense[o + j] = half[st.hidden![src + j]!]!;
            });
          });
          return { student: states[s]!, teacher: Tensor.from(dense, [batch.batchSize * T, H]), projection: h.projections.projections[l]! };
        }),
      };
    }
    return distillationLoss(logits, Tensor.from(teacher, [batch.batchSize * T, C]), batch.labels, {
      temperature: this.opts.temperature,
      alpha: this.opts.alpha,
      softMask: mask,
      ...(hidden ? { hidden } : {}),
    });
  }
}
