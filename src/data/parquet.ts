import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
import { DataFormatError } from './errors.js';
import { RecordReader, TAG_FIELD_CANDIDATES, TOKEN_FIELD_CANDIDATES } from './jsonl.js';
import type { RecordOptions } from './jsonl.js';
import type { Dataset } from './types.js';

export interface ParquetDataset extends Dataset {
  /** Label names found in the file's `huggingface` metadata for the tag column, if any. */
  labelNames: string[] | null;
}

/**
 * Reads a Hugging Face `datasets` parquet shard: a list<string> token column and a list<int>
 * (ClassLabel ids) or list<string> tag column. Integer ids are named from, in order:
 * `opts.labelNames`, else the ClassLabel names stored in the parquet key-value metadata
 * `huggingface` (`{"info": {"features": {"ner_tags": {"feature": {"names": [...]}}}}}`).
 * Errors name the 1-based row.
 */
export async function readParquet(path: string, opts: RecordOptions = {}): Promise<ParquetDataset> {
  let file: AsyncBuffer & { close(): void };
  try {
    file = oneFdBuffer(path);
  } catch (e) {
    throw new DataFormatError(path, 0, `cannot read file: ${(e as Error).message}`);
  }
  try {
    return await readParquetFrom(path, file, opts);
  } finally {
    file.close();
  }
}

/** Row groups accepted in one file (datasets writes a handful; a hostile footer listed 100k). */
const MAX_ROW_GROUPS = 10_000;

/**
 * An AsyncBuffer over one descriptor: hyparquet's asyncBufferFromFile opens a stream per slice,
 * so a footer with 100k row groups opened 100k files at once (EMFILE).
 */
function oneFdBuffer(path: string): AsyncBuffer & { close(): void } {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return {
    byteLength: size,
    slice(start: number, end = size): ArrayBuffer {
      const a = Math.max(0, Math.min(start, size)),
        b = Math.max(a, Math.min(end, size));
      const out = new Uint8Array(b - a);
      let done = 0;
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, a + done);
        if (n === 0) break;
        done += n;
      }
      return out.buffer;
    },
    close: () => closeSync(fd),
  };
}

async function readParquetFrom(path: string, file: AsyncBuffer, opts: RecordOptions): Promise<ParquetDataset> {
  let meta: FileMetaData;
  if (file.byteLength === 0) throw new DataFormatError(path, 0, 'file is empty');
  try {
    meta = await parquetMetadataAsync(file);
    checkMetadata(meta);
  } catch (e) {
    throw new DataFormatError(path, 0, `not a readable parquet file: ${damage(e)}`);
  }
  if (meta.row_groups.length > MAX_ROW_GROUPS)
    throw new DataFormatError(
      path,
      0,
      `the footer lists ${meta.row_groups.length} row groups, more than the ${MAX_ROW_GROUPS} accepted; re-export the file with larger row groups`,
    );
  const topLevel = topLevelColumns(meta);
  const tokensField = opts.tokensField ?? TOKEN_FIELD_CANDIDATES.find((c) => topLevel.includes(c));
  const tagsField = opts.tagsField ?? TAG_FIELD_CANDIDATES.find((c) => topLevel.includes(c));
  if (tokensField === undefined || !topLevel.includes(tokensField)) {
    throw new DataFormatError(
      path,
      0,
      `no token column ${tokensField ? JSON.stringify(tokensField) : `(tried ${TOKEN_FIELD_CANDIDATES.join(', ')})`}; columns are ${topLevel.join(', ')}`,
    );
  }
  if (tagsField === undefined || !topLevel.includes(tagsField)) {
    throw new DataFormatError(
      path,
      0,
      `no tag column ${tagsField ? JSON.stringify(tagsField) : `(tried ${TAG_FIELD_CANDIDATES.join(', ')})`}; columns are ${topLevel.join(', ')}`,
    );
  }
  const fromMeta = classLabelNames(meta, tagsField, path);
  const labelNames = opts.labelNames ? [...opts.labelNames] : fromMeta;
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, metadata: meta, columns: [tokensField, tagsField] });
  } catch (e) {
    throw new DataFormatError(path, 0, `cannot decode parquet columns ${tokensField}, ${tagsField}: ${damage(e)}`);
  }
  const reader = new RecordReader(path, { ...opts, tokensField, tagsField, ...(labelNames ? { labelNames } : {}) }, 'row');
  rows.forEach((row, i) => reader.add(row, i + 1));
  return { ...reader.finish(), labelNames: fromMeta };
}

/**
 * hyparquet trusts the footer's structure: a damaged one surfaces as a TypeError from deep
 * inside ("Cannot read properties of undefined"), which says nothing to a user.
 */
function damage(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  if (e instanceof TypeError || e instanceof RangeError || /undefined|null/.test(m)) {
    return 'the file is damaged or truncated (its metadata footer or a page header does not describe valid parquet data); re-export or re-download it';
  }
  return m;
}

/** The footer fields the reader relies on, checked before any of them is used. */
function checkMetadata(meta: FileMetaData): void {
  if (!Array.isArray(meta.schema) || meta.schema.length === 0 || meta.schema.some((el) => typeof el?.name !== 'string')) {
    throw new TypeError('schema');
  }
  if (!Array.isArray(meta.row_groups) || meta.row_groups.some((g) => !Array.isArray(g?.columns) || g.columns.some((c) => !c?.meta_data))) {
    throw new TypeError('row groups');
  }
}

function topLevelColumns(meta: FileMetaData): string[] {
  const schema = meta.schema;
  const names: string[] = [];
  // schema is a flattened pre-order tree: skip each child's subtree to list only root children.
  let i = 1;
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren && i < schema.length; c++) {
    names.push(schema[i]!.name);
    i = skipSubtree(schema, i);
  }
  return names;
}

function skipSubtree(schema: FileMetaData['schema'], i: number): number {
  const kids = schema[i]?.num_children ?? 0;
  let j = i + 1;
  for (let k = 0; k < kids && j < schema.length; k++) j = skipSubtree(schema, j);
  return j;
}

/**
 * ClassLabel names for `column` from the `huggingface` key-value metadata, covering the
 * `Sequence` form (`{"feature": {"names": [...], "_type": "ClassLabel"}, "_type": "Sequence"}`)
 * and the newer `List` form; null when absent.
 */
export function classLabelNames(meta: Pick<FileMetaData, 'key_value_metadata'>, column: string, path = '<parquet>'): string[] | null {
  const kv = meta.key_value_metadata?.find((e) => e.key === 'huggingface');
  if (!kv?.value) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(kv.value);
  } catch (e) {
    throw new DataFormatError(path, 0, `the 'huggingface' metadata is not valid JSON: ${(e as Error).message}`);
  }
  const feature = dig(parsed, ['info', 'features', column]);
  if (feature === undefined) return null;
  // Sequence/List wrap the element feature in "feature"; a list literal [ClassLabel] also occurs.
  let inner: unknown = Array.isArray(feature) ? feature[0] : (dig(feature, ['feature']) ?? feature);
  if (Array.isArray(inner)) inner = inner[0];
  if (dig(inner, ['_type']) !== 'ClassLabel') return null;
  const names = dig(inner, ['names']);
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
    throw new DataFormatError(path, 0, `ClassLabel metadata for column ${JSON.stringify(column)} has no list of string names`);
  }
  return names as string[];
}

function dig(v: unknown, keys: string[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}
