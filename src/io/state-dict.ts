/**
 * Checkpoint folders as transformers' save_pretrained writes them: pick the weights file(s),
 * load them into one state dict, and offer the legacy key normaliser. Prefix handling
 * (`bert.` or not) belongs to the model layer.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CheckpointFormatError, CheckpointNotFoundError } from './errors.js';
import { readSafetensors } from './safetensors.js';
import type { StateDict } from './tensor-record.js';
import { readTorchCheckpoint } from './torch-zip.js';

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
    json = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new CheckpointFormatError(indexPath, `shard index is not valid JSON (${(e as Error).message})`);
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

function readWeightsFile(path: string): StateDict {
  if (path.endsWith('.safetensors')) return readSafetensors(path).tensors;
  return readTorchCheckpoint(path);
}

/**
 * Load the state dict of a checkpoint folder (or of a single .safetensors / .bin file).
 * Sharded checkpoints are merged in weight_map order; every mapped tensor must be in its shard.
 */
export function loadStateDict(dirOrFile: string): StateDict {
  if (statSync(dirOrFile).isFile()) return readWeightsFile(dirOrFile);
  const loc = findCheckpoint(dirOrFile);
  if (!loc.weightMap) return readWeightsFile(loc.files[0]!);

  const shards = new Map<string, StateDict>();
  for (const f of loc.files) shards.set(basename(f), readWeightsFile(f));
  const out: StateDict = new Map();
  for (const [name, shard] of loc.weightMap) {
    const t = shards.get(shard)!.get(name);
    if (!t) throw new CheckpointFormatError(join(dirOrFile, shard), `tensor '${name}' listed in ${basename(loc.index!)} is not in this shard`);
    out.set(name, t);
  }
  // Tensors a shard holds beyond the index are kept too (transformers loads whole shards).
  for (const [shard, sd] of shards) {
    for (const [name, t] of sd) {
      if (out.has(name)) {
        if (loc.weightMap.get(name) !== shard) {
          throw new CheckpointFormatError(join(dirOrFile, shard), `tensor '${name}' also appears in shard '${loc.weightMap.get(name)}'`);
        }
        continue;
      }
      out.set(name, t);
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
