/**
 * Checkpoint folders as transformers' save_pretrained writes them: pick the weights file(s),
 * load them into one state dict, and offer the legacy key normaliser. Prefix handling
 * (`bert.` or not) belongs to the model layer.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointFormatError, CheckpointNotFoundError } from './errors.js';
import { fileSource, type ByteSource } from './byte-source.js';
import { openSafetensors } from './safetensors.js';
import { ElementBudget, selectedNames, type OpenedWeights, type ReadPlan, type StateDict, type TensorInfo } from './tensor-record.js';
import { defaultElementBudget, openTorchCheckpoint } from './torch-zip.js';
import { ModelFileError, readModelJson } from './model-file.js';

export type CheckpointFormat = 'safetensors' | 'torch';

export interface CheckpointLocation {
  format: CheckpointFormat;
  /** Weight files to read, in order (one unless sharded). */
  files: string[];
  /** The shard index JSON, when sharded. */
  index?: string;
  /** For sharded checkpoints: tensor name -> shard file (weight_map order). */
  weightMap?: Map<string, string>;
}

/** In order of preference, as transformers' from_pretrained tries them. */
const CANDIDATES: { file: string; format: CheckpointFormat; sharded: boolean }[] = [
  { file: 'model.safetensors', format: 'safetensors', sharded: false },
  { file: 'model.safetensors.index.json', format: 'safetensors', sharded: true },
  { file: 'pytorch_model.bin', format: 'torch', sharded: false },
  { file: 'pytorch_model.bin.index.json', format: 'torch', sharded: true },
];

function readIndex(indexPath: string, dir: string): Map<string, string> {
  let json: unknown;
  try {
    json = readModelJson(indexPath);
  } catch (e) {
    throw new CheckpointFormatError(
      indexPath,
      e instanceof ModelFileError && e.code !== 'EJSON'
        ? `shard index: ${e.problem}`
        : `shard index is ${e instanceof ModelFileError ? e.problem : `not valid JSON (${(e as Error).message})`}`,
    );
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new CheckpointFormatError(indexPath, 'shard index has no "weight_map" object');
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    // Shards live beside the index: a path here could point anywhere on disk.
    if (typeof shard !== 'string' || shard === '' || shard !== basename(shard) || shard === '..' || shard.includes('\\')) {
      throw new CheckpointFormatError(indexPath, `weight_map entry '${name}' names an invalid shard file ${JSON.stringify(shard)}`);
    }
    if (!existsSync(join(dir, shard))) {
      throw new CheckpointNotFoundError(`${indexPath}: shard '${shard}' (holding '${name}') is missing from ${dir}`);
    }
    map.set(name, shard);
  }
  return map;
}

/** Which weights file(s) a checkpoint folder holds. */
export function findCheckpoint(dir: string): CheckpointLocation {
  for (const c of CANDIDATES) {
    const p = join(dir, c.file);
    if (!existsSync(p)) continue;
    if (!c.sharded) return { format: c.format, files: [p] };
    const weightMap = readIndex(p, dir);
    const files = [...new Set(weightMap.values())].map((s) => join(dir, s));
    return { format: c.format, files, index: p, weightMap };
  }
  let listing = '';
  try {
    listing = readdirSync(dir).slice(0, 20).join(', ');
  } catch (e) {
    throw new CheckpointNotFoundError(`cannot read checkpoint folder ${dir}: ${(e as Error).message}`);
  }
  throw new CheckpointNotFoundError(
    `no weights in ${dir}: expected one of ${CANDIDATES.map((c) => c.file).join(', ')}` +
      (listing ? ` (found: ${listing})` : ' (folder is empty)'),
  );
}

function openWeightsFile(src: ByteSource): OpenedWeights {
  return src.name.endsWith('.safetensors') ? openSafetensors(src) : openTorchCheckpoint(src);
}

/**
 * Load the state dict of a checkpoint folder (or of a single .safetensors / .bin file).
 * Sharded checkpoints are merged in weight_map order; every mapped tensor must be in its shard.
 * With a `plan`, every file is listed first (names, dtypes, shapes: no tensor data), `plan.select`
 * picks what to read from the whole listing, and nothing past `plan.maxElements` is materialised.
 */
export function loadStateDict(dirOrFile: string, plan: ReadPlan = {}): StateDict {
  const single = statSync(dirOrFile).isFile();
  const loc = single ? undefined : findCheckpoint(dirOrFile);
  const paths = single ? [dirOrFile] : loc!.files;
  const sources: ByteSource[] = [];
  try {
    const opened = new Map<string, OpenedWeights>();
    for (const f of paths) {
      const src = fileSource(f);
      sources.push(src);
      opened.set(basename(f), openWeightsFile(src));
    }
    const order = mergedListing(dirOrFile, loc, opened);
    const keep = selectedNames(
      order.map(([, info]) => info),
      plan.select,
    );
    let stored = 0;
    for (const o of opened.values()) stored += o.storedElements;
    const budget = new ElementBudget(
      plan.maxElements ?? defaultElementBudget(stored),
      plan.maxElements === undefined ? `budget of twice the ${stored} elements the files store` : `expected ${plan.maxElements} elements`,
    );
    const read = new Map<string, StateDict>();
    for (const [shard, o] of opened) read.set(shard, o.read(keep, budget));
    const out: StateDict = new Map();
    for (const [shard, info] of order) {
      const t = read.get(shard)!.get(info.name);
      if (t) out.set(info.name, t);
    }
    return out;
  } finally {
    for (const src of sources) src.close();
  }
}

/** (shard, tensor) in load order: weight_map order, then what shards hold beyond the index. */
function mergedListing(dir: string, loc: CheckpointLocation | undefined, opened: Map<string, OpenedWeights>): [string, TensorInfo][] {
  if (!loc?.weightMap) {
    const [shard, o] = [...opened][0]!;
    return o.listing.map((info) => [shard, info]);
  }
  const byShard = new Map<string, Map<string, TensorInfo>>();
  for (const [shard, o] of opened) byShard.set(shard, new Map(o.listing.map((i) => [i.name, i])));
  const out: [string, TensorInfo][] = [];
  const seen = new Set<string>();
  for (const [name, shard] of loc.weightMap) {
    const info = byShard.get(shard)!.get(name);
    if (!info) throw new CheckpointFormatError(join(dir, shard), `tensor '${name}' listed in ${basename(loc.index!)} is not in this shard`);
    out.push([shard, info]);
    seen.add(name);
  }
  // Tensors a shard holds beyond the index are kept too (transformers loads whole shards).
  for (const [shard, infos] of byShard) {
    for (const [name, info] of infos) {
      if (seen.has(name)) {
        if (loc.weightMap.get(name) !== shard) {
          throw new CheckpointFormatError(join(dir, shard), `tensor '${name}' also appears in shard '${loc.weightMap.get(name)}'`);
        }
        continue;
      }
      seen.add(name);
      out.push([shard, info]);
    }
  }
  return out;
}

/**
 * Old TF-converted BERT checkpoints name LayerNorm parameters gamma/beta; transformers renames
 * them to weight/bias on load. Only the last component of a norm module is touched, so names
 * that merely contain "beta" elsewhere are left alone.
 */
export function normaliseLegacyKey(name: string): string {
  const m = /^(.*\.)?([^.]*norm[^.]*)\.(gamma|beta)$/i.exec(name);
  if (!m) return name;
  return `${m[1] ?? ''}${m[2]}.${m[3] === 'gamma' ? 'weight' : 'bias'}`;
}

/** Apply normaliseLegacyKey to every key; errors if two keys collide after renaming. */
export function normaliseStateDictKeys(sd: StateDict): { stateDict: StateDict; renamed: [from: string, to: string][] } {
  const out: StateDict = new Map();
  const renamed: [string, string][] = [];
  const origin = new Map<string, string>();
  for (const [name, t] of sd) {
    const to = normaliseLegacyKey(name);
    const prev = origin.get(to);
    if (prev !== undefined) throw new CheckpointFormatError('<state dict>', `keys '${prev}' and '${name}' both map to '${to}'`);
    origin.set(to, name);
    if (to !== name) renamed.push([name, to]);
    out.set(to, t);
  }
  return { stateDict: out, renamed };
}
