import { DataFormatError } from './errors.js';
import { TagChecker } from './tag-check.js';
import { forEachLine, readTextFile } from './text-file.js';
import type { Dataset, Sentence, TagCheckOptions } from './types.js';
import { describeJson } from '../util/printable.js';

/** Tag fields tried in this order when `tagsField` is not given (names used by HF datasets). */
export const TAG_FIELD_CANDIDATES = ['ner_tags', 'pos_tags', 'chunk_tags', 'tags', 'labels'] as const;
/** Token fields tried in this order when `tokensField` is not given. */
export const TOKEN_FIELD_CANDIDATES = ['tokens', 'words'] as const;

export interface RecordOptions extends TagCheckOptions {
  /** Field holding the word list. Default: the first of `tokens`, `words` present. */
  tokensField?: string;
  /** Field holding the tag list. Default: the first of ner_tags/pos_tags/chunk_tags/tags/labels present. */
  tagsField?: string;
  /** Names for integer tag ids (from the dataset's ClassLabel or a model config's id2label). */
  labelNames?: readonly string[];
}

/** Reads JSON lines (one object per line) or, when the text starts with `[`, a JSON array of objects. */
export function readJsonl(path: string, opts: RecordOptions = {}): Dataset {
  return parseJsonl(readTextFile(path), path, opts);
}

export function parseJsonl(text: string, source: string, opts: RecordOptions = {}): Dataset {
  const recs: { value: unknown; line: number }[] = [];
  const trimmed = text.trimStart();
  let unit: 'line' | 'item' = 'line';
  if (trimmed.startsWith('[') && !firstLineIsJson(trimmed)) {
    // A JSON array gives no line per element, so errors name the item (1-based) instead.
    unit = 'item';
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      throw new DataFormatError(source, 0, `invalid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(arr)) throw new DataFormatError(source, 0, 'expected a JSON array of objects');
    arr.forEach((value, i) => recs.push({ value, line: i + 1 }));
  } else {
    forEachLine(text, (line, lineNo) => {
      if (line.trim().length === 0) return; // blank separator lines carry no record
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        throw new DataFormatError(source, lineNo, `invalid JSON: ${(e as Error).message}`);
      }
      recs.push({ value, line: lineNo });
    });
  }
  if (recs.length === 0) throw new DataFormatError(source, 0, 'no records found');
  const reader = new RecordReader(source, opts, unit);
  for (const r of recs) reader.add(r.value, r.line);
  return reader.finish();
}

/** A first line that is complete JSON on its own means JSON lines (of arrays, maybe), not one array. */
function firstLineIsJson(text: string): boolean {
  const nl = text.indexOf('\n');
  if (nl < 0 || text.slice(nl + 1).trim() === '') return false;
  try {
    JSON.parse(text.slice(0, nl));
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns records `{tokens: [...], ner_tags: [...]}` into sentences; shared by the JSON and
 * parquet readers. Integer tags are mapped through `labelNames`; bigint ids (parquet INT64)
 * are accepted too.
 */
export class RecordReader {
  private readonly sentences: Sentence[] = [];
  private readonly checker: TagChecker;
  private tokensField: string | undefined;
  private tagsField: string | undefined;

  constructor(
    private readonly source: string,
    private readonly opts: RecordOptions,
    private readonly unit: 'line' | 'row' | 'item',
  ) {
    this.checker = new TagChecker(source, opts, unit);
    this.tokensField = opts.tokensField;
    this.tagsField = opts.tagsField;
  }

  private fail(line: number, problem: string): never {
    throw new DataFormatError(this.source, line, problem, this.unit);
  }

  add(value: unknown, line: number): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(
        line,
        `expected a JSON object like {"tokens": [...], "ner_tags": [...]}, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`,
      );
    }
    const rec = value as Record<string, unknown>;
    this.tokensField ??= TOKEN_FIELD_CANDIDATES.find((f) => f in rec);
    this.tagsField ??= TAG_FIELD_CANDIDATES.find((f) => f in rec);
    if (this.tokensField === undefined)
      this.fail(
        line,
        `no token field: expected one of ${TOKEN_FIELD_CANDIDATES.join(', ')} (or set tokensField); found ${Object.keys(rec).join(', ')}`,
      );
    if (this.tagsField === undefined)
      this.fail(
        line,
        `no tag field: expected one of ${TAG_FIELD_CANDIDATES.join(', ')} (or set tagsField); found ${Object.keys(rec).join(', ')}`,
      );
    const toks = rec[this.tokensField];
    const rawTags = rec[this.tagsField];
    if (!isList(toks)) this.fail(line, `field ${JSON.stringify(this.tokensField)} must be a list of strings`);
    if (!isList(rawTags)) this.fail(line, `field ${JSON.stringify(this.tagsField)} must be a list of tags`);
    if (toks.length !== rawTags.length) {
      this.fail(line, `${toks.length} tokens but ${rawTags.length} tags in ${JSON.stringify(this.tagsField)}`);
    }
    const tokens = new Array<string>(toks.length);
    const tags = new Array<string>(toks.length);
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (typeof t !== 'string') this.fail(line, `token ${i} is ${describeJson(t)}, not a string`);
      if (t.length === 0) this.fail(line, `token ${i} is an empty string`);
      tokens[i] = t;
      tags[i] = this.checker.check(this.tagName(rawTags[i], i, line), line);
    }
    this.sentences.push({ tokens, tags, line });
  }

  private tagName(raw: unknown, i: number, line: number): string {
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'bigint' || (typeof raw === 'number' && Number.isInteger(raw))) {
      const names = this.opts.labelNames;
      if (!names)
        this.fail(
          line,
          `tag ${i} is the integer ${raw} but no label names are known: pass labelNames (e.g. from the dataset's ClassLabel or the model config's id2label)`,
        );
      const id = Number(raw);
      if (id < 0 || id >= names.length) this.fail(line, `tag id ${raw} (tag ${i}) is out of range for ${names.length} label names`);
      return names[id]!;
    }
    this.fail(line, `tag ${i} is ${describeJson(raw)}; expected a string or an integer id`);
  }

  finish(): Dataset {
    if (this.sentences.length === 0) throw new DataFormatError(this.source, 0, 'no records found');
    this.checker.finish();
    const warnings = this.checker.warnings;
    const empty = this.sentences.filter((s) => s.tokens.length === 0).length;
    if (empty > 0) warnings.push(`${this.source}: ${empty} record(s) have no tokens; kept (they produce no labelled token)`);
    return { sentences: this.sentences, source: this.source, warnings };
  }
}

function isList(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
}
