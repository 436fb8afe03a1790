/**
 * `tokentune distill --student-init select`: a fresh, narrower and shallower student starts from a
 * selection of the teacher's weights instead of random numbers (weight selection, Xu et al.,
 * "Initializing Models with Larger Ones", ICLR 2024). Student layer i takes teacher layer g(i) (the
 * layer map, TinyBERT's uniform g by default); inside every tensor the leading slice of each
 * dimension is kept. The same leading hidden units are kept in every tensor, so the residual
 * stream, the LayerNorms and the classifier stay consistent, and whole attention heads survive
 * when the head width is the same. A from-scratch student sees only a few hundred steps of the
 * vocabulary; this hands it the teacher's word embeddings, which carry most of what NER needs.
 */
import type { TokenClassifier } from '../models/index.js';
import { DistillSetupError } from './distill-errors.js';
import { parseLayerMap, type LayerMap } from './distill-hidden.js';

/** Numbered blocks in every registered architecture's parameter names (`encoder.layer.3.`, `layers.3.`). */
const LAYER_INDEX = /(\.layers?\.)(\d+)\./;

/** Copies the leading slice of `src` (shape srcShape) into `dst` (shape dstShape, each dim <= src's). */
export function copyLeadingSlice(src: Float32Array, srcShape: readonly number[], dst: Float32Array, dstShape: readonly number[]): void {
  const rank = dstShape.length;
  if (rank === 0) {
    dst[0] = src[0]!;
    return;
  }
  const srcStride = new Array<number>(rank).fill(1);
  const dstStride = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    srcStride[d] = srcStride[d + 1]! * srcShape[d + 1]!;
    dstStride[d] = dstStride[d + 1]! * dstShape[d + 1]!;
  }
  const inner = dstShape[rank - 1]!;
  const rows = dst.length / Math.max(inner, 1);
  for (let r = 0; r < rows; r++) {
    let srcOff = 0;
    let rem = r;
    for (let d = rank - 2; d >= 0; d--) {
      const idx = rem % dstShape[d]!;
      rem = Math.floor(rem / dstShape[d]!);
      srcOff += idx * srcStride[d]!;
    }
    dst.set(src.subarray(srcOff, srcOff + inner), r * inner);
  }
}

/**
 * Student layer (1-based) -> teacher layer (1-based) for every student layer: the explicit map's
 * pairs where given (0:0, the embeddings, is implied), TinyBERT's uniform round(i * Lt / Ls) otherwise.
 */
export function selectionLayers(studentLayers: number, teacherLayers: number, map: LayerMap | null): number[] {
  const given = new Map([...parseLayerMap('uniform', studentLayers, teacherLayers), ...(map ?? []).filter(([s]) => s > 0)]);
  return Array.from({ length: studentLayers }, (_, k) => given.get(k + 1)!);
}

/**
 * Overwrites every student parameter with its selection from the teacher. Refuses, naming both,
 * what cannot be selected: another model type, another vocabulary, a wider or deeper student, a
 * parameter the teacher lacks. Returns a one-line description for the log.
 */
export function selectTeacherWeights(student: TokenClassifier, teacher: TokenClassifier, map: LayerMap | null): string {
  const s = student.config,
    t = teacher.config;
  const refuse = (why: string): never => {
    throw new DistillSetupError(`--student-init select: ${why}`);
  };
  if (s.modelType !== t.modelType)
    refuse(`the student is ${s.modelType} and the teacher ${t.modelType}; weights select only within one model type`);
  if (s.modelType === 'modernbert')
    refuse(
      'ModernBERT packs query/key/value and the GeGLU halves into single tensors, which a leading slice would mix; use the default random init',
    );
  if (s.vocabSize !== t.vocabSize)
    refuse(`the student's vocabulary has ${s.vocabSize} entries and the teacher's ${t.vocabSize}; selection needs the teacher's tokenizer`);
  if (s.hiddenSize > t.hiddenSize || s.intermediateSize > t.intermediateSize || s.numHiddenLayers > t.numHiddenLayers) {
    refuse(
      `the student (${s.numHiddenLayers} layers, hidden ${s.hiddenSize}, intermediate ${s.intermediateSize}) must not be deeper or wider than the teacher (${t.numHiddenLayers}, ${t.hiddenSize}, ${t.intermediateSize})`,
    );
  }
  if (student.numLabels !== teacher.numLabels) refuse(`the student has ${student.numLabels} labels and the teacher ${teacher.numLabels}`);
  const layers = selectionLayers(s.numHiddenLayers, t.numHiddenLayers, map);
  for (const [name, dst] of student.parameters()) {
    const tName = name.replace(LAYER_INDEX, (_, pre: string, i: string) => `${pre}${layers[Number(i)]! - 1}.`);
    const src = teacher.params.get(tName) ?? refuse(`the teacher has no ${tName} (for the student's ${name})`);
    if (src.shape.length !== dst.shape.length || dst.shape.some((d, k) => d > src.shape[k]!)) {
      refuse(`${name} [${dst.shape.join(', ')}] is not a slice of the teacher's ${tName} [${src.shape.join(', ')}]`);
    }
    copyLeadingSlice(src.f as Float32Array, src.shape, dst.f as Float32Array, dst.shape);
  }
  return `student initialised by weight selection from the teacher: layers ${layers.map((l, k) => `${k + 1}<-${l}`).join(', ')}, leading ${s.hiddenSize} of ${t.hiddenSize} hidden units, ${s.intermediateSize} of ${t.intermediateSize} intermediate`;
}
