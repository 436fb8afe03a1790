import { LabelMapError } from './errors.js';
import { OUTSIDE, parseTag } from './tag-schemes.js';

/** A fixed assignment of label strings to class ids 0..n-1. */
export interface LabelMap {
  labels: readonly string[];
  label2id: ReadonlyMap<string, number>;
}

/**
 * Label ordering for a label list built from data.
 * - 'entity' (default): `O` first, then by entity type (code-point order), and within a type by
 *   prefix B, I, then E/L, then S/U — so B-X and I-X sit next to each other. Unprefixed labels
 *   (POS) sort by code point after `O`.
 * - 'run_ner': plain code-point sort of the label strings, as HF run_ner.py's `get_label_list`
 *   does (`sorted(set(labels))`), for id-compatibility with models trained by that script.
 */
export type LabelOrder = 'entity' | 'run_ner';

const PREFIX_RANK: Record<string, number> = { B: 0, I: 1, E: 2, L: 2, S: 3, U: 3 };

function compareCodePoints(a: string, b: string): number {
  // JS `<` compares UTF-16 units, which misorders astral characters against U+E000..U+FFFF.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function compareEntityOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === OUTSIDE) return -1;
  if (b === OUTSIDE) return 1;
  const pa = parseTag(a);
  const pb = parseTag(b);
  const t = compareCodePoints(pa.type, pb.type);
  if (t !== 0) return t;
  const ra = pa.prefix === null ? -1 : (PREFIX_RANK[pa.prefix] ?? 9);
  const rb = pb.prefix === null ? -1 : (PREFIX_RANK[pb.prefix] ?? 9);
  return ra !== rb ? ra - rb : compareCodePoints(a, b);
}

export function makeLabelMap(labels: readonly string[]): LabelMap {
  const label2id = new Map<string, number>();
  labels.forEach((l, i) => {
    if (label2id.has(l)) throw new LabelMapError(`label ${JSON.stringify(l)} appears twice in the label list`);
    label2id.set(l, i);
  });
  return { labels: [...labels], label2id };
}

/**
 * The union of labels over all given splits (train, validation, test...) in a stable order, so
 * labels that occur only in an evaluation split (CoNLL-2003's eng.testa lacks B-LOC, train has
 * it) still get an id and every split maps the same way.
 */
export function buildLabelMap(
  splits: Iterable<{ sentences: readonly { tags: readonly string[] }[] }>,
  order: LabelOrder = 'entity',
): LabelMap {
  const seen = new Set<string>();
  for (const split of splits) for (const s of split.sentences) for (const t of s.tags) seen.add(t);
  if (seen.size === 0) throw new LabelMapError('no labels found in the given splits');
  const labels = [...seen].sort(order === 'run_ner' ? compareCodePoints : compareEntityOrder);
  return makeLabelMap(labels);
}

/** The parts of a HF config.json that carry the label map. */
export interface LabelConfig {
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
}

/**
 * The label map of an already fine-tuned model (its config's id2label), checked against the
 * labels the data uses. Ids must be exactly 0..n-1; every data label must be known to the model
 * (an error lists all unknown ones — read the data with onUnknownLabel 'map-to-O' to drop them).
 */
export function labelMapFromConfig(config: LabelConfig, dataLabels: Iterable<string> = []): LabelMap {
  const id2label = config.id2label;
  if (!id2label || Object.keys(id2label).length === 0) throw new LabelMapError('model config has no id2label');
  const n = Object.keys(id2label).length;
  const labels = new Array<string>(n);
  for (const [k, v] of Object.entries(id2label)) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= n) throw new LabelMapError(`config id2label key ${JSON.stringify(k)} is not an id in 0..${n - 1}`);
    if (typeof v !== 'string' || v.length === 0) throw new LabelMapError(`config id2label[${k}] is not a label name`);
    labels[id] = v;
  }
  const map = makeLabelMap(labels);
  if (config.label2id) {
    for (const [label, id] of Object.entries(config.label2id)) {
      if (map.label2id.get(label) !== id)
        throw new LabelMapError(
          `config label2id[${JSON.stringify(label)}]=${id} disagrees with id2label (${map.label2id.get(label) ?? 'absent'})`,
        );
    }
  }
  const unknown = new Set<string>();
  for (const l of dataLabels) if (!map.label2id.has(l)) unknown.add(l);
  if (unknown.size > 0) {
    throw new LabelMapError(
      `the data uses labels the model does not have: ${[...unknown].sort(compareCodePoints).join(', ')} (model labels: ${labels.join(', ')})`,
    );
  }
  return map;
}

/** Every tag in a set of splits (for `labelMapFromConfig`). */
export function* labelsIn(splits: Iterable<{ sentences: readonly { tags: readonly string[] }[] }>): Generator<string> {
  for (const split of splits) for (const s of split.sentences) yield* s.tags;
}

/**
 * For each label id, the id to use on continuation sub-tokens when every sub-token is labelled:
 * B-X maps to I-X when I-X exists, everything else to itself (HF run_ner.py's `b_to_i_label`).
 */
export function bToIMap(map: LabelMap): Int32Array {
  const out = new Int32Array(map.labels.length);
  map.labels.forEach((l, i) => {
    const p = parseTag(l);
    const iId = p.prefix === 'B' ? map.label2id.get(`I-${p.type}`) : undefined;
    out[i] = iId ?? i;
  });
  return out;
}
