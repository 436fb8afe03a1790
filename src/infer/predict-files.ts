/**
 * Batch prediction over files, streaming: the input is read line by line, records are tagged a
 * chunk at a time (one pipeline call per chunk, so texts share forward calls), and results are
 * written as they come, honouring the output's back-pressure. Memory is bounded by the chunk.
 *
 * Inputs: .txt (one text per line), .jsonl ({"text": ...} or {"tokens": [...]} per line),
 * .conll (a token per line in the first column, blank lines between sentences).
 * Outputs: jsonl (the input record plus "entities", or "pred_tags"/"pred_scores" for token lists)
 * or conll (the input lines with the predicted tag appended as a last column; for raw text, one
 * line per word of the tokenizer's pre-tokenization).
 */
import { once } from 'node:events';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { AggregationStrategy, Entity } from './aggregation.js';
import type { TokenClassificationPipeline } from './pipeline.js';
import type { WordTag } from './word-tags.js';

export const INPUT_FORMATS = ['txt', 'jsonl', 'conll'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export const OUTPUT_FORMATS = ['jsonl', 'conll'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export class PredictInputError extends Error {
  constructor(source: string, line: number, message: string) {
    super(`${source}:${line}: ${message}`);
    this.name = 'PredictInputError';
  }
}

const EXTENSIONS: Record<string, InputFormat> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.conll': 'conll',
  '.conll03': 'conll',
  '.bio': 'conll',
  '.iob': 'conll',
  '.iob2': 'conll',
  '.tsv': 'conll',
};

export function detectInputFormat(path: string): InputFormat {
  const f = EXTENSIONS[extname(path).toLowerCase()];
  if (!f) {
    throw new Error(
      `${path}: cannot tell the input format from the extension '${extname(path)}' (known: ${Object.keys(EXTENSIONS).join(', ')}); pass --input-format ${INPUT_FORMATS.join('|')}`,
    );
  }
  return f;
}

/** One unit of input and how to write its result back. */
export type InputRecord =
  | { kind: 'text'; text: string; json?: Record<string, unknown> }
  | { kind: 'words'; words: string[]; json?: Record<string, unknown>; wordsField?: string }
  | { kind: 'conll'; lines: string[]; words: string[] }
  | { kind: 'passthrough'; line: string };

export interface PredictFileOptions {
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
  aggregationStrategy?: AggregationStrategy;
  ignoreLabels?: readonly string[];
  /** Records per pipeline call. Default 64. */
  chunkSize?: number;
  /** Windows per forward call and the overlap of long-text windows (pipeline options). */
  batchSize?: number;
  stride?: number;
  /** Name of the input for error messages. */
  source?: string;
  /** Called after each chunk with the records written so far. */
  onProgress?: (records: number) => void;
}

/** Parses lines into records, one at a time (CoNLL sentences end at blank lines). */
class RecordParser {
  private sentence: { lines: string[]; words: string[] } | null = null;

  constructor(
    private readonly format: InputFormat,
    private readonly source: string,
  ) {}

  /** The records this line completes. */
  push(line: string, lineNo: number): InputRecord[] {
    if (this.format === 'txt') return [{ kind: 'text', text: line }];
    if (this.format === 'jsonl') return line.trim() === '' ? [] : [this.jsonRecord(line, lineNo)];
    return this.conllLine(line);
  }

  end(): InputRecord[] {
    if (this.format !== 'conll' || !this.sentence) return [];
    const s = this.sentence;
    this.sentence = null;
    return [{ kind: 'conll', ...s }];
  }

  private jsonRecord(line: string, lineNo: number): InputRecord {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new PredictInputError(this.source, lineNo, `not valid JSON: ${(e as Error).message}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new PredictInputError(this.source, lineNo, 'expected a JSON object per line');
    const json = v as Record<string, unknown>;
    if (typeof json.text === 'string') return { kind: 'text', text: json.text, json };
    for (const field of ['tokens', 'words']) {
      const w = json[field];
      if (w === undefined) continue;
      if (!Array.isArray(w)) throw new PredictInputError(this.source, lineNo, `"${field}" must be a list of strings`);
      const bad = w.findIndex((x) => typeof x !== 'string');
      if (bad >= 0)
        throw new PredictInputError(
          this.source,
          lineNo,
          `"${field}"[${bad}] is ${w[bad] === null ? 'null' : typeof w[bad]}, expected a string`,
        );
      return { kind: 'words', words: w as string[], json, wordsField: field };
    }
    if ('text' in json)
      throw new PredictInputError(this.source, lineNo, `"text" must be a string, got ${json.text === null ? 'null' : typeof json.text}`);
    throw new PredictInputError(this.source, lineNo, 'expected a "text" string or a "tokens" list');
  }

  private conllLine(line: string): InputRecord[] {
    const trimmed = line.trim();
    if (trimmed === '') return this.end();
    if (trimmed.startsWith('-DOCSTART-')) {
      // A document marker is a sentence of its own in CoNLL-2003; keep it, tagged O.
      return [...this.end(), { kind: 'passthrough', line }];
    }
    const token = (line.includes('\t') ? line.split('\t') : trimmed.split(/ +/))[0]!.trim();
    const s = (this.sentence ??= { lines: [], words: [] });
    s.lines.push(line);
    s.words.push(token);
    return [];
  }
}

/** Formats a record's result as output text (lines end in \n). */
export function formatRecord(rec: InputRecord, result: Entity[] | WordTag[] | null, out: OutputFormat): string {
  if (rec.kind === 'passthrough') {
    const sep = rec.line.includes('\t') ? '\t' : ' ';
    return out === 'conll' ? `${rec.line.trimEnd()}${sep}O\n\n` : '';
  }
  if (rec.kind === 'text') {
    if (out === 'jsonl') return JSON.stringify({ ...(rec.json ?? { text: rec.text }), entities: result }) + '\n';
    return (result as WordTag[]).map((w) => `${w.word} ${w.entity}\n`).join('') + '\n';
  }
  const tags = result as WordTag[];
  if (rec.kind === 'words') {
    if (out === 'jsonl')
      return JSON.stringify({ ...(rec.json ?? {}), pred_tags: tags.map((t) => t.entity), pred_scores: tags.map((t) => t.score) }) + '\n';
    return rec.words.map((w, i) => `${w} ${tags[i]!.entity}\n`).join('') + '\n';
  }
  if (out === 'jsonl')
    return JSON.stringify({ tokens: rec.words, pred_tags: tags.map((t) => t.entity), pred_scores: tags.map((t) => t.score) }) + '\n';
  return rec.lines.map((l, i) => `${l.trimEnd()}${l.includes('\t') ? '\t' : ' '}${tags[i]!.entity}\n`).join('') + '\n';
}

export async function runChunk(
  pipe: TokenClassificationPipeline,
  recs: readonly InputRecord[],
  o: PredictFileOptions,
): Promise<(Entity[] | WordTag[] | null)[]> {
  const results: (Entity[] | WordTag[] | null)[] = recs.map(() => null);
  const run = { batchSize: o.batchSize, stride: o.stride, aggregationStrategy: o.aggregationStrategy, ignoreLabels: o.ignoreLabels };
  const texts: number[] = [];
  const words: number[] = [];
  recs.forEach((r, i) => {
    if (r.kind === 'text') texts.push(i);
    else if (r.kind === 'words' || r.kind === 'conll') words.push(i);
  });
  if (texts.length) {
    const inputs = texts.map((i) => (recs[i] as { text: string }).text);
    const out = o.outputFormat === 'jsonl' ? await pipe.predictTexts(inputs, run) : await pipe.tagTextWords(inputs, run);
    texts.forEach((i, k) => (results[i] = out[k]!));
  }
  if (words.length) {
    const out = await pipe.predictWords(
      words.map((i) => (recs[i] as { words: string[] }).words),
      run,
    );
    words.forEach((i, k) => (results[i] = out[k]!));
  }
  return results;
}

async function write(out: Writable, s: string): Promise<void> {
  if (s && !out.write(s)) await once(out, 'drain');
}

/** Tags every record of `input` into `output`; returns the number of records. */
export async function predictStream(
  pipe: TokenClassificationPipeline,
  input: Readable,
  output: Writable,
  o: PredictFileOptions,
): Promise<number> {
  const source = o.source ?? 'input';
  const chunkSize = o.chunkSize ?? 64;
  const parser = new RecordParser(o.inputFormat, source);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let chunk: InputRecord[] = [];
  let done = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const recs = chunk;
    chunk = [];
    const results = await runChunk(pipe, recs, o);
    await write(output, recs.map((r, i) => formatRecord(r, results[i]!, o.outputFormat)).join(''));
    done += recs.length;
    o.onProgress?.(done);
  };
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      chunk.push(...parser.push(line, lineNo));
      if (chunk.length >= chunkSize) await flush();
    }
    chunk.push(...parser.end());
    await flush();
  } finally {
    rl.close();
  }
  return done;
}

/**
 * The records of `input` one at a time, with the line each ends on (the queue's `enqueue` sends
 * them one per message; `predictStream` is the in-process path).
 */
export async function* readRecords(
  input: Readable,
  format: InputFormat,
  source = 'input',
): AsyncGenerator<{ record: InputRecord; line: number }> {
  const parser = new RecordParser(format, source);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      for (const record of parser.push(line, lineNo)) yield { record, line: lineNo };
    }
    for (const record of parser.end()) yield { record, line: lineNo };
  } finally {
    rl.close();
  }
}
