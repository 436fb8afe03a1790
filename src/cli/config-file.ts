// Training config files: a flat JSON or YAML mapping of option names to values. Errors name the
// file, line and column.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { findJsonError, lineColumn } from '../util/json-text.js';
import { TrainingArgsError } from '../train/training-args.js';

/** A parsed config file: its top-level mapping and the line of each key (for error messages). */
export class ConfigFile {
  constructor(
    readonly path: string,
    readonly values: Readonly<Record<string, unknown>>,
    private readonly keyLines: ReadonlyMap<string, number> = new Map(),
  ) {}
  lineOf(key: string): number | undefined {
    return this.keyLines.get(key);
  }
}

const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml'];

export function isConfigFilePath(p: string): boolean {
  return CONFIG_EXTENSIONS.includes(extname(p).toLowerCase());
}

/** Reads a flat JSON or YAML mapping (chosen by extension). Errors name the file and the line. */
export function loadConfigFile(path: string): ConfigFile {
  const ext = extname(path).toLowerCase();
  if (!CONFIG_EXTENSIONS.includes(ext)) {
    throw new TrainingArgsError(`${path}: config files must end in .json, .yaml or .yml`, undefined, path);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrainingArgsError(`${path}: cannot read config file (${code ?? (e as Error).message})`, undefined, path);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let data: unknown;
  if (ext === '.json') {
    const err = findJsonError(text);
    if (err) {
      const { line, column } = lineColumn(text, err.offset);
      throw new TrainingArgsError(`${path}:${line}:${column}: invalid JSON: ${err.message}`, undefined, path, line);
    }
    data = JSON.parse(text);
  }
  // YAML parses JSON too; for JSON files it is used only to find the line of each key.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (ext !== '.json') {
    const err = doc.errors[0];
    if (err) {
      const { line, column } = lineColumn(text, err.pos[0]);
      throw new TrainingArgsError(`${path}:${line}:${column}: invalid YAML: ${err.message.split('\n')[0]}`, undefined, path, line);
    }
    data = doc.toJS() as unknown;
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new TrainingArgsError(
      `${path}:1: the config file must hold a mapping of option names to values, got ${Array.isArray(data) ? 'a list' : typeof data}`,
      undefined,
      path,
      1,
    );
  }
  const lines = new Map<string, number>();
  if (doc.errors.length === 0 && isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && pair.key.range) lines.set(String(pair.key.value), lineColumn(text, pair.key.range[0]).line);
    }
  }
  return new ConfigFile(path, data as Record<string, unknown>, lines);
}
