/**
 * The YAML metadata block of a dataset repository's README.md (the "dataset card"), as `datasets`
 * reads it: `configs:` (config name -> data_files patterns, data_dir, default) and
 * `dataset_info:` (per config: features, whose ClassLabel names turn tag ids into tag names).
 *
 *   configs:
 *   - config_name: default            dataset_info:
 *     default: true                     features:
 *     data_files:                       - name: ner_tags
 *     - split: train                      sequence:            (or list:)
 *       path: data/train-*                  class_label:
 *                                             names: {'0': O, '1': B-PER}
 */
import { parse as parseYaml } from 'yaml';
import { DataFormatError } from './errors.js';
import type { SplitPatterns } from './hub-dataset-files.js';

export interface CardConfig {
  name: string;
  /** Split -> patterns from `data_files`, or null when the config gives none (patterns are inferred). */
  dataFiles: SplitPatterns | null;
  /** Folder the patterns are relative to ('' for the repo root). */
  dataDir: string;
  isDefault: boolean;
}

export interface CardFeature {
  name: string;
  /** ClassLabel names of the column or of its list elements, else null. */
  classLabelNames: string[] | null;
}

export interface DatasetCard {
  /** From `configs:`; empty when the card has none. */
  configs: CardConfig[];
  /** `dataset_info` features by config name ('default' when the info names no config). */
  features: Map<string, CardFeature[]>;
}

const EMPTY: DatasetCard = { configs: [], features: new Map() };

/** The YAML between a leading `---` line and the next `---` line, with the line it starts on. */
function frontMatter(text: string): { yaml: string; firstLine: number } | null {
  const t = text.replace(/^\uFEFF/, '');
  const m = /^---[ \t]*\r?\n/.exec(t);
  if (!m) return null;
  const rest = t.slice(m[0].length);
  const end = /^---[ \t]*$/m.exec(rest);
  if (!end) return null;
  return { yaml: rest.slice(0, end.index), firstLine: 2 };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses README.md text; `source` names the file in errors. A README without metadata gives an empty card. */
export function parseDatasetCard(text: string, source: string): DatasetCard {
  const fm = frontMatter(text);
  if (!fm) return EMPTY;
  let data: unknown;
  try {
    data = parseYaml(fm.yaml, { maxAliasCount: 100, uniqueKeys: false });
  } catch (e) {
    const err = e as Error & { linePos?: { line: number }[] };
    const line = err.linePos?.[0]?.line;
    throw new DataFormatError(source, line ? line + fm.firstLine - 1 : 0, `invalid YAML metadata: ${err.message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return EMPTY;
  if (!isRecord(data)) throw new DataFormatError(source, 0, 'the YAML metadata must be a mapping');
  return { configs: parseConfigs(data.configs, source), features: parseInfos(data.dataset_info, source) };
}

function fail(source: string, problem: string): never {
  throw new DataFormatError(source, 0, problem);
}

function stringList(v: unknown, what: string, source: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x) => typeof x === 'string' && x.length > 0))
    fail(source, `${what} must be a path pattern or a list of them`);
  return list as string[];
}

/** datasets' sanitize_patterns: a string or list means the train split; else split -> patterns. */
function parseDataFiles(v: unknown, config: string, source: string): SplitPatterns {
  const what = `configs[${config}].data_files`;
  if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) return [['train', stringList(v, what, source)]];
  if (Array.isArray(v)) {
    const out: SplitPatterns = [];
    for (const item of v) {
      if (!isRecord(item) || typeof item.split !== 'string' || item.path === undefined) {
        fail(source, `${what}: each entry must have 'split' and 'path', got ${JSON.stringify(item)?.slice(0, 120)}`);
      }
      if (out.some(([s]) => s === item.split)) fail(source, `${what}: split '${item.split}' is listed twice`);
      out.push([item.split, stringList(item.path, `${what}[${item.split}].path`, source)]);
    }
    return out;
  }
  if (isRecord(v)) return Object.entries(v).map(([split, p]) => [split, stringList(p, `${what}.${split}`, source)]);
  return fail(source, `${what} must be a pattern, a list of patterns or a list of {split, path}`);
}

function parseConfigs(v: unknown, source: string): CardConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(source, "'configs' must be a list of {config_name, data_files}");
  const out: CardConfig[] = [];
  for (const c of v) {
    if (!isRecord(c)) fail(source, "each entry of 'configs' must be a mapping");
    const name = c.config_name === undefined ? 'default' : c.config_name;
    if (typeof name !== 'string' || name.length === 0) fail(source, `config_name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (out.some((o) => o.name === name)) fail(source, `config '${name}' is defined twice in 'configs'`);
    const dataDir = c.data_dir === undefined || c.data_dir === null ? '' : c.data_dir;
    if (typeof dataDir !== 'string') fail(source, `configs[${name}].data_dir must be a string`);
    out.push({
      name,
      dataFiles: c.data_files === undefined || c.data_files === null ? null : parseDataFiles(c.data_files, name, source),
      dataDir: dataDir.replace(/^\.?\/+|\/+$/g, ''),
      isDefault: c.default === true,
    });
  }
  return out;
}

/** datasets' default config: the one marked default, else the only one, else one named 'default'. */
export function defaultConfigName(configs: readonly { name: string; isDefault?: boolean }[]): string | null {
  const marked = configs.filter((c) => c.isDefault);
  if (marked.length === 1) return marked[0]!.name;
  if (configs.length === 1) return configs[0]!.name;
  return configs.find((c) => c.name === 'default')?.name ?? null;
}

function parseInfos(v: unknown, source: string): Map<string, CardFeature[]> {
  const out = new Map<string, CardFeature[]>();
  if (v === undefined || v === null) return out;
  for (const info of Array.isArray(v) ? v : [v]) {
    if (!isRecord(info)) fail(source, "'dataset_info' must be a mapping or a list of mappings");
    const config = typeof info.config_name === 'string' ? info.config_name : 'default';
    if (!Array.isArray(info.features)) continue; // infos without features say nothing about columns
    out.set(
      config,
      info.features.map((f) => parseFeature(f, config, source)),
    );
  }
  return out;
}

function parseFeature(f: unknown, config: string, source: string): CardFeature {
  if (!isRecord(f) || typeof f.name !== 'string') fail(source, `dataset_info (config '${config}'): each feature needs a 'name'`);
  let type: unknown = f;
  // Sequence / List / LargeList wrap the element type; datasets may also nest it under 'feature'.
  for (let depth = 0; depth < 4 && isRecord(type); depth++) {
    const inner = type.sequence ?? type.list ?? type.large_list ?? (type === f ? undefined : type.feature);
    if (inner === undefined) break;
    type = inner;
  }
  const cl = isRecord(type) ? type.class_label : undefined;
  return { name: f.name, classLabelNames: cl === undefined ? null : classLabelNames(cl, `${f.name}`, config, source) };
}

/** `names` as a list or as {'0': name, '1': name}: ids must be 0..n-1, each once. */
function classLabelNames(cl: unknown, column: string, config: string, source: string): string[] {
  const where = `dataset_info (config '${config}'), feature '${column}': class_label`;
  if (!isRecord(cl)) fail(source, `${where} must be a mapping with 'names'`);
  const names = cl.names;
  if (Array.isArray(names)) {
    if (!names.every((n) => typeof n === 'string' || typeof n === 'number')) fail(source, `${where}: names must be strings`);
    return names.map(String);
  }
  if (!isRecord(names)) fail(source, `${where}: names must be a list or a mapping from id to name`);
  const entries = Object.entries(names);
  const out = new Array<string>(entries.length);
  for (const [k, n] of entries) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= entries.length) fail(source, `${where}: ids must be 0..${entries.length - 1}, got '${k}'`);
    if (typeof n !== 'string' && typeof n !== 'number') fail(source, `${where}: the name of id ${k} must be a string`);
    if (out[id] !== undefined) fail(source, `${where}: id ${id} is given twice`);
    out[id] = String(n);
  }
  return out;
}
