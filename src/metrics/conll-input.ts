// Reader for conlleval-style evaluation text: one token per line, gold and predicted tag in the
// last two columns, sentences separated by blank lines or by lines whose first column is
// conlleval's boundary marker "-X-". "-DOCSTART-" lines are document markers: read as sentence
// boundaries and otherwise ignored (conlleval.pl itself would count them as O/O tokens).

import { ConllFormatError } from './errors.js';
import type { ConllevalRow } from './conlleval.js';

export const CONLLEVAL_BOUNDARY = '-X-';
export const DOCSTART = '-DOCSTART-';

export type ConllInputRow = { boundary: false; gold: string; pred: string; line: number } | { boundary: true; line: number };

export interface ConllInput {
  /** Every line in order, ready for conllevalCount. */
  rows: ConllInputRow[];
  /** Tokens grouped into sentences, with the 1-based line of each token. */
  gold: string[][];
  pred: string[][];
  lines: number[][];
}

export interface ConllInputOptions {
  /** Name used in error messages. */
  file?: string;
  /**
   * Column separator. Omitted: runs of spaces and tabs (leading and trailing ones ignored).
   * Given: split on exactly this string like conlleval -d, dropping trailing empty columns.
   */
  delimiter?: string;
}

function splitFields(line: string, delimiter: string | undefined): string[] {
  if (delimiter === undefined) {
    const trimmed = line.replace(/^[ \t]+|[ \t]+$/g, '');
    return trimmed === '' ? [] : trimmed.split(/[ \t]+/);
  }
  const fields = line.split(delimiter);
  while (fields.length > 0 && fields[fields.length - 1] === '') fields.pop(); // Perl's split
  return fields;
}

/** Parses the text; throws ConllFormatError naming the file and line for malformed lines. */
export function parseConllevalText(text: string, opts: ConllInputOptions = {}): ConllInput {
  const file = opts.file ?? '<input>';
  if (opts.delimiter === '') throw new ConllFormatError(file, 0, 'the column delimiter must not be empty');
  const rawLines = text.split('\n');
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop(); // final newline
  if (rawLines.length > 0 && rawLines[0]!.startsWith('\uFEFF')) rawLines[0] = rawLines[0]!.slice(1);

  const rows: ConllInputRow[] = [];
  const gold: string[][] = [];
  const pred: string[][] = [];
  const lines: number[][] = [];
  let sentGold: string[] = [];
  let sentPred: string[] = [];
  let sentLines: number[] = [];
  const closeSentence = () => {
    if (sentGold.length === 0) return;
    gold.push(sentGold);
    pred.push(sentPred);
    lines.push(sentLines);
    sentGold = [];
    sentPred = [];
    sentLines = [];
  };

  let expectedColumns = -1;
  let expectedFrom = 0;
  for (let i = 0; i < rawLines.length; i++) {
    const lineNo = i + 1;
    let raw = rawLines[i]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const fields = splitFields(raw, opts.delimiter);
    if (fields.length === 0) {
      rows.push({ boundary: true, line: lineNo });
      closeSentence();
      continue;
    }
    if (fields[0] === DOCSTART) {
      rows.push({ boundary: true, line: lineNo });
      closeSentence();
      continue;
    }
    if (expectedColumns < 0) {
      expectedColumns = fields.length;
      expectedFrom = lineNo;
    } else if (fields.length !== expectedColumns) {
      throw new ConllFormatError(
        file,
        lineNo,
        `found ${fields.length} columns but line ${expectedFrom} has ${expectedColumns}; every ` +
          'line needs the same columns, the last two being the gold and the predicted tag',
      );
    }
    if (fields[0] === CONLLEVAL_BOUNDARY) {
      rows.push({ boundary: true, line: lineNo });
      closeSentence();
      continue;
    }
    if (fields.length < 2) {
      throw new ConllFormatError(
        file,
        lineNo,
        `found 1 column ('${fields[0]}'); each token line needs at least the gold and the predicted tag as its last two columns`,
      );
    }
    const g = fields[fields.length - 2]!;
    const p = fields[fields.length - 1]!;
    if (g === '' || p === '') {
      throw new ConllFormatError(file, lineNo, `empty ${g === '' ? 'gold' : 'predicted'} tag column`);
    }
    rows.push({ boundary: false, gold: g, pred: p, line: lineNo });
    sentGold.push(g);
    sentPred.push(p);
    sentLines.push(lineNo);
  }
  closeSentence();
  return { rows, gold, pred, lines };
}

/** The rows without line numbers, as conllevalCount takes them. */
export function toConllevalRows(input: ConllInput): ConllevalRow[] {
  return input.rows.map((r) => (r.boundary ? { boundary: true } : { boundary: false, gold: r.gold, pred: r.pred }));
}
