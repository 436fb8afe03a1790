/**
 * TinyBERT-style hidden-state matching for `tokentune distill --layer-map`: which student layer
 * imitates which teacher layer, and the learned projections student width -> teacher width.
 * The projections train with the student (their own AdamW, stepped with the model's) and live in
 * checkpoints as distill_projection.safetensors, never in the student's model folder, so the
 * student stays an ordinary model folder and a resumed run continues them exactly.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { weightsChanged, type Tensor } from '../engine/index.js';
import { initParameters } from '../models/init.js';
import { readSafetensors, writeSafetensors, type F32TensorInput } from '../io/safetensors.js';
import { AdamW, type AdamWOptions } from './optimizer.js';
import { DistillSetupError } from './distill-errors.js';

/** Student layer -> teacher layer (0 = the embeddings output). */
export type LayerMap = readonly (readonly [number, number])[];

/**
 * `--layer-map S:T[,S:T...]`, or `uniform`: student layer i (1..Ls) imitates teacher layer
 * round(i * Lt / Ls) (TinyBERT's g(m) = m * N / M; the embeddings are matched only when 0:0 is given).
 */
export function parseLayerMap(spec: string, studentLayers: number, teacherLayers: number): LayerMap {
  if (spec.trim() === 'uniform') {
    return Array.from({ length: studentLayers }, (_, i) => [i + 1, Math.round(((i + 1) * teacherLayers) / studentLayers)] as const);
  }
  const seen = new Set<number>();
  return spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m)
      throw new DistillSetupError(
        `--layer-map ${spec}: "${part}" is not S:T (student layer:teacher layer, 0 = embeddings), e.g. 1:2,2:4, or "uniform"`,
      );
    const s = Number(m[1]),
      t = Number(m[2]);
    if (s > studentLayers)
      throw new DistillSetupError(
        `--layer-map ${spec}: student layer ${s} does not exist (the student has ${studentLayers} layers; 0 = embeddings)`,
      );
    if (t > teacherLayers)
      throw new DistillSetupError(
        `--layer-map ${spec}: teacher layer ${t} does not exist (the teacher has ${teacherLayers} layers; 0 = embeddings)`,
      );
    if (seen.has(s)) throw new DistillSetupError(`--layer-map ${spec}: student layer ${s} is mapped twice`);
    seen.add(s);
    return [s, t] as const;
  });
}

export const PROJECTION_FILE = 'distill_projection.safetensors';

/** One Linear(studentHidden -> teacherHidden) per mapped pair, or none when the widths agree. */
export class HiddenProjections {
  readonly projections: ({ weight: Tensor; bias: Tensor } | null)[];
  private readonly optimizer: AdamW | null;
  private readonly params: [string, Tensor][];

  constructor(
    readonly map: LayerMap,
    studentHidden: number,
    teacherHidden: number,
    init: { std: number; seed: number },
    adam: AdamWOptions,
  ) {
    const specs =
      studentHidden === teacherHidden
        ? []
        : map.flatMap((_, k) => [
            { name: `projection.${k}.weight`, shape: [teacherHidden, studentHidden], init: 'normal' as const },
            { name: `projection.${k}.bias`, shape: [teacherHidden], init: 'zeros' as const },
          ]);
    const params = initParameters(specs, init.std, init.seed);
    this.params = [...params.entries()];
    for (const [name, t] of this.params) {
      t.requiresGrad = true;
      t.name = name;
    }
    this.projections = map.map((_, k) =>
      specs.length ? { weight: params.get(`projection.${k}.weight`)!, bias: params.get(`projection.${k}.bias`)! } : null,
    );
    this.optimizer = this.params.length ? new AdamW(this.params, adam) : null;
  }

  get size(): number {
    return this.params.reduce((a, [, t]) => a + t.size, 0);
  }

  /** The update of one training step (after the model's), with the same rate; clipped on its own gradient norm. */
  step(lr: number, maxGradNorm: number): void {
    this.optimizer?.fusedStep(lr, maxGradNorm);
  }

  save(dir: string): void {
    const tensors = new Map<string, F32TensorInput>(this.params.map(([n, t]) => [n, { shape: t.shape, data: t.f as Float32Array }]));
    const o = this.optimizer;
    if (o) {
      tensors.set('adamw.exp_avg', { shape: [o.m.length], data: o.m });
      tensors.set('adamw.exp_avg_sq', { shape: [o.v.length], data: o.v });
    }
    writeSafetensors(join(dir, PROJECTION_FILE), tensors, { layer_map: this.mapString(), step: String(o?.step ?? 0) });
  }

  /** Restores the projections and their optimizer from a checkpoint this objective saved. */
  load(dir: string): void {
    const path = join(dir, PROJECTION_FILE);
    if (!existsSync(path)) {
      if (!this.optimizer) return; // equal widths: nothing to restore
      throw new DistillSetupError(
        `${path} is missing: this checkpoint was not written by a run with --layer-map ${this.mapString()} (the hidden-state projections cannot resume)`,
      );
    }
    const f = readSafetensors(path);
    if (f.metadata.layer_map !== this.mapString()) {
      throw new DistillSetupError(`${path}: layer_map ${f.metadata.layer_map} differs from this run's --layer-map ${this.mapString()}`);
    }
    for (const [name, t] of this.params) {
      const rec = f.tensors.get(name);
      if (!rec || rec.data.length !== t.size)
        throw new DistillSetupError(`${path}: ${name} is missing or has the wrong size (expected ${t.shape.join('x')})`);
      (t.f as Float32Array).set(rec.data as Float32Array);
    }
    weightsChanged();
    const o = this.optimizer;
    if (o) {
      const m = f.tensors.get('adamw.exp_avg'),
        v = f.tensors.get('adamw.exp_avg_sq'),
        step = Number(f.metadata.step);
      if (!m || !v || !Number.isSafeInteger(step) || step < 0)
        throw new DistillSetupError(
          `${path}: the projections' optimizer state (adamw.exp_avg, adamw.exp_avg_sq, metadata step) is missing or invalid`,
        );
      o.loadState({ step, m: m.data as Float32Array, v: v.data as Float32Array });
    }
  }

  mapString(): string {
    return this.map.map(([s, t]) => `${s}:${t}`).join(',');
  }
}
