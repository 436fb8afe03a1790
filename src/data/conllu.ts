import { DataFormatError } from './errors.js';
import { TagChecker } from './tag-check.js';
import { forEachLine, readTextFile } from './text-file.js';
import type { Dataset, Sentence, TagCheckOptions } from './types.js';

export interface ConlluOptions extends TagCheckOptions {
  /** Which CoNLL-U column is the label: UPOS (column 4) or XPOS (column 5). Default 'upos'. */
  tagField?: 'upos' | 'xpos';
}

const FIELD_INDEX = { upos: 3, xpos: 4 } as const;

/** Reads a CoNLL-U treebank file (Universal Dependencies). */
export function readConllu(path: string, opts: ConlluOptions = {}): Dataset {
  return parseConllu(readTextFile(path), path, opts);
}

/**
 * Parses CoNLL-U: `#` comment lines are skipped, sentences end at a blank line, multiword token
 * ranges (`3-4`) and empty nodes (`8.1`) are skipped because their words are covered by the
 * regular rows, and every row must have exactly 10 TAB-separated fields. Word ids must count
 * 1, 2, 3... within a sentence, which catches merged or truncated sentences.
 */
export function parseConllu(text: string, source: string, opts: ConlluOptions = {}): Dataset {
  const field = opts.tagField ?? 'upos';
  const tagIdx = FIELD_INDEX[field];
  const checker = new TagChecker(source, { ...opts, checkPrefixes: opts.checkPrefixes ?? false });
  const sentences: Sentence[] = [];
  let tokens: string[] = [];
  let tags: string[] = [];
  let startLine = 0;

  const flush = (): void => {
    if (tokens.length > 0) sentences.push({ tokens, tags, line: startLine });
    tokens = [];
    tags = [];
  };

  forEachLine(text, (line, lineNo) => {
    if (line.trim().length === 0) {
      flush();
      return;
    }
    if (line.startsWith('#')) return;
    const fields = line.split('\t');
    if (fields.length !== 10) {
      throw new DataFormatError(source, lineNo, `CoNLL-U rows need 10 TAB-separated fields, found ${fields.length}`);
    }
    const id = fields[0]!;
    if (/^\d+-\d+$/.test(id) || /^\d+\.\d+$/.test(id)) return;
    if (!/^\d+$/.test(id))
      throw new DataFormatError(
        source,
        lineNo,
        `bad word id ${JSON.stringify(id)} (expected an integer, a range like 3-4, or an empty node like 8.1)`,
      );
    if (Number(id) !== tokens.length + 1) {
      throw new DataFormatError(
        source,
        lineNo,
        `word id ${id} out of sequence (expected ${tokens.length + 1}); is a blank line missing between sentences?`,
      );
    }
    const form = fields[1]!;
    if (form.length === 0) throw new DataFormatError(source, lineNo, 'empty FORM field');
    const tag = fields[tagIdx]!;
    if (tag === '_' || tag.length === 0) throw new DataFormatError(source, lineNo, `empty ${field.toUpperCase()} field`);
    if (tokens.length === 0) startLine = lineNo;
    tokens.push(form);
    tags.push(checker.check(tag, lineNo));
  });
  flush();
  if (sentences.length === 0) throw new DataFormatError(source, 0, 'no sentences found');
  checker.finish();
  return { sentences, source, warnings: checker.warnings };
}
