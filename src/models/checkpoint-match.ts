/**
 * Matches a checkpoint's listing (names, dtypes, shapes: no tensor data yet) to the parameters a
 * model needs, so a load reads only those tensors, refuses a wrong shape or layer count before
 * materialising anything, and never reads more elements than the model holds.
 */
import { normaliseLegacyKey } from '../io/state-dict.js';
import { shapeNumel, type TensorInfo } from '../io/tensor-record.js';
import { configToJson, ConfigError, type ModelConfig } from './config.js';
import type { ParamSpec } from './init.js';

export interface MatchTarget {
  cfg: ModelConfig;
  specs: readonly ParamSpec[];
  /** Base-model prefix (`bert`), which bare base checkpoints lack. */
  prefix: string;
  /** The classifier head is re-initialised, so the checkpoint's head is not read. */
  newHead: boolean;
}

export interface CheckpointMatch {
  /** Checkpoint names (as in the file) to read. */
  keep: Set<string>;
  /** Checkpoint tensors the model does not use, by model name (as the load report lists them). */
  unused: string[];
}

/**
 * Old names (gamma/beta) become new ones; a bare base-model checkpoint (BertModel, RobertaModel,
 * DistilBertModel saved alone) gets the base prefix on every name but the head's (the parameters
 * outside the base prefix: `classifier.*`, a prediction head).
 */
export function modelNameMapper(names: Iterable<string>, prefix: string, specs: readonly ParamSpec[]): (name: string) => string {
  const bare = ![...names].some((k) => normaliseLegacyKey(k).startsWith(`${prefix}.`));
  const headRoots = new Set(specs.filter((s) => !s.name.startsWith(`${prefix}.`)).map((s) => s.name.split('.')[0]!));
  return (k) => {
    const name = normaliseLegacyKey(k);
    return bare && !headRoots.has(name.split('.')[0]!) ? `${prefix}.${name}` : name;
  };
}

const isHead = (name: string): boolean => name.startsWith('classifier.');

/** Most elements the checkpoint may supply: every parameter the model reads from it. */
export function expectedElements(t: MatchTarget): number {
  let n = 0;
  for (const s of t.specs) if (!(t.newHead && isHead(s.name))) n += shapeNumel(s.shape);
  return n;
}

// Repeated blocks are numbered `<...>.layer.N.` (BERT), `layers.N`, `h.N` or `block.N` across HF models.
const LAYER_INDEX = /\.(?:layer|layers|h|block)\.(\d+)\./;

function layerCount(names: Iterable<string>): number {
  let n = 0;
  for (const name of names) {
    const m = LAYER_INDEX.exec(name);
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** Config fields whose value is `dim`, to say which one disagrees with the checkpoint. */
function fieldsOf(cfg: ModelConfig, dim: number): string[] {
  const json = configToJson(cfg, '');
  return Object.entries(json)
    .filter(([, v]) => v === dim)
    .map(([k]) => k);
}

export function matchCheckpoint(t: MatchTarget, listing: readonly TensorInfo[], source: string): CheckpointMatch {
  const toModel = modelNameMapper(
    listing.map((i) => i.name),
    t.prefix,
    t.specs,
  );
  const byName = new Map<string, TensorInfo>();
  for (const info of listing) byName.set(toModel(info.name), info);

  // Only the base model's own blocks count (a pretraining checkpoint may hold other stacks).
  const have = layerCount([...byName.keys()].filter((n) => n.startsWith(`${t.prefix}.`)));
  const want = layerCount(t.specs.map((s) => s.name));
  if (have > 0 && have !== want) {
    throw new ConfigError(
      `${source}/config.json`,
      `num_hidden_layers is ${t.cfg.numHiddenLayers} but the checkpoint holds ${have} layer(s) (indices 0..${have - 1}); ` +
        'fix num_hidden_layers to match the weights',
    );
  }
  const keep = new Set<string>();
  for (const spec of t.specs) {
    const info = byName.get(spec.name);
    if (!info) continue;
    byName.delete(spec.name);
    if (t.newHead && isHead(spec.name)) continue;
    if (info.shape.length !== spec.shape.length || info.shape.some((d, i) => d !== spec.shape[i])) {
      const fields = [...new Set(spec.shape.flatMap((d, i) => (info.shape[i] === d ? [] : fieldsOf(t.cfg, d))))];
      throw new ConfigError(
        source,
        `${spec.name} has shape [${info.shape.join(', ')}] in the checkpoint but the config gives [${spec.shape.join(', ')}]` +
          (fields.length ? ` (from config.json ${fields.join(' / ')}); fix the config to match the weights` : ''),
      );
    }
    keep.add(info.name);
  }
  return { keep, unused: [...byName.keys()] };
}
