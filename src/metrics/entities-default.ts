// seqeval's default ("conlleval-compatible") chunk extraction: seqeval.metrics.sequence_labeling
// get_entities / end_of_chunk / start_of_chunk, which follow conlleval.pl's endOfChunk and
// startOfChunk and add S- and E- handling. Lenient by design: `I-` after `O` opens a chunk, a type
// change opens a chunk, and tags without a prefix are split the way seqeval splits them.

import { firstCodePoint, lastCodePoint } from './tags.js';

/** [type, first token, last token] with offsets into the flattened input (inclusive end). */
export type DefaultEntity = readonly [type: string, start: number, end: number];

/**
 * Splits a tag into chunk letter and type like seqeval: `B-PER` -> (B, PER); with `suffix`,
 * `PER-B` -> (B, PER). The empty type becomes '_'. A tag without prefix such as `NN` becomes
 * (N, N): that is what seqeval does, which is why flat label sets are scored per token instead.
 */
export function splitDefaultTag(chunk: string, suffix: boolean): { tag: string; type: string } {
  if (suffix) {
    const tag = lastCodePoint(chunk);
    const body = chunk.slice(0, chunk.length - tag.length);
    const dash = body.lastIndexOf('-');
    const type = dash < 0 ? body : body.slice(0, dash);
    return { tag, type: type || '_' };
  }
  const tag = firstCodePoint(chunk);
  const body = chunk.slice(tag.length);
  const dash = body.indexOf('-');
  const type = dash < 0 ? body : body.slice(dash + 1);
  return { tag, type: type || '_' };
}

/** Whether a chunk ended between the previous and the current token. */
export function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) {
    return true;
  }
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

/** Whether a chunk started between the previous and the current token. */
export function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) {
    return true;
  }
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/**
 * seqeval's get_entities. Sentences are flattened with an 'O' after each one, exactly as seqeval
 * does for nested lists, so offsets are global and no chunk spans two sentences.
 */
export function getEntities(sequences: ReadonlyArray<readonly string[]> | readonly string[], suffix = false): DefaultEntity[] {
  const flat: string[] = [];
  if (sequences.some((s) => Array.isArray(s))) {
    for (const sentence of sequences as ReadonlyArray<readonly string[]>) {
      for (const t of sentence) flat.push(t);
      flat.push('O');
    }
  } else {
    for (const t of sequences as readonly string[]) flat.push(t);
  }
  flat.push('O');

  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  const chunks: DefaultEntity[] = [];
  for (let i = 0; i < flat.length; i++) {
    const { tag, type } = splitDefaultTag(flat[i]!, suffix);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push([prevType, begin, i - 1]);
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}
