/**
 * Tag schemes for chunk labels. A tag is `O`, `<P>-<TYPE>` with a one-letter prefix, or a plain
 * label without prefix (POS tags). Conversions go through IOB2 as the pivot representation.
 */
export type TagScheme = 'IOB1' | 'IOB2' | 'IOBES' | 'BILOU' | 'none';

export const OUTSIDE = 'O';
const PREFIXES = new Set(['B', 'I', 'E', 'S', 'L', 'U']);

export interface ParsedTag {
  /** 'O' for the outside tag, a prefix letter, or null for an unprefixed label (e.g. a POS tag). */
  prefix: string | null;
  /** Entity type; '' for 'O'; the whole tag when unprefixed. */
  type: string;
}

/** Splits a tag into prefix and type. Does not validate the prefix; see `tagProblem`. */
export function parseTag(tag: string): ParsedTag {
  if (tag === OUTSIDE) return { prefix: OUTSIDE, type: '' };
  if (tag.length >= 2 && tag.charCodeAt(1) === 45 /* - */ && isAsciiLetter(tag.charCodeAt(0))) {
    return { prefix: tag[0]!, type: tag.slice(2) };
  }
  return { prefix: null, type: tag };
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Why `tag` is not a usable chunk tag, or null if it is fine. Tags that look like
 * `<letter>-<rest>` must use one of B/I/E/S/L/U and name a type; anything else without that
 * shape is an unprefixed label and is allowed (POS tags like `-LRB-` or `PRP$`).
 */
export function tagProblem(tag: string): string | null {
  if (tag.length === 0) return 'empty tag';
  if (/\s/.test(tag)) return `tag ${JSON.stringify(tag)} contains whitespace`;
  const p = parseTag(tag);
  if (p.prefix === null || p.prefix === OUTSIDE) return null;
  if (!PREFIXES.has(p.prefix)) return `illegal tag prefix in ${JSON.stringify(tag)}: expected one of B-, I-, E-, S-, L-, U- or the tag O`;
  if (p.type.length === 0) return `tag ${JSON.stringify(tag)} has a prefix but no entity type`;
  return null;
}

/**
 * Detects the scheme used by a collection of tag sequences.
 * - no prefixed tag at all: 'none' (POS-style labels, or only O)
 * - any L-/U-: 'BILOU'; any E-/S-: 'IOBES' (both kinds at once is an error)
 * - only B/I/O: 'IOB2' if every chunk starts with B-, else 'IOB1' (an I- starts a chunk,
 *   as in the original CoNLL-2003 files).
 * Throws if prefixed and unprefixed non-O tags are mixed (e.g. `PER` beside `B-PER`).
 */
export function detectScheme(sequences: Iterable<readonly string[]>): TagScheme {
  let sawPrefixed = false;
  let sawBilou = false;
  let sawIobes = false;
  let iStartsChunk = false;
  let unprefixed: string | null = null;
  let prefixedExample: string | null = null;
  for (const seq of sequences) {
    let prevType: string | null = null; // type of previous tag when it was inside a chunk
    for (const tag of seq) {
      const p = parseTag(tag);
      if (p.prefix === null) {
        unprefixed ??= tag;
        prevType = null;
        continue;
      }
      if (p.prefix === OUTSIDE) {
        prevType = null;
        continue;
      }
      sawPrefixed = true;
      prefixedExample ??= tag;
      if (p.prefix === 'L' || p.prefix === 'U') sawBilou = true;
      else if (p.prefix === 'E' || p.prefix === 'S') sawIobes = true;
      else if (p.prefix === 'I' && prevType !== p.type) iStartsChunk = true;
      prevType = p.type;
    }
  }
  if (!sawPrefixed) return 'none';
  if (unprefixed !== null) {
    throw new Error(`mixed tag styles: ${JSON.stringify(unprefixed)} has no B-/I- prefix while ${JSON.stringify(prefixedExample)} has one`);
  }
  if (sawBilou && sawIobes) throw new Error('mixed tag schemes: both BILOU (L-/U-) and IOBES (E-/S-) prefixes occur');
  if (sawBilou) return 'BILOU';
  if (sawIobes) return 'IOBES';
  return iStartsChunk ? 'IOB1' : 'IOB2';
}

/**
 * IOB1 -> IOB2: an I-X that does not continue a chunk of type X (after O, another type, or at
 * the start) becomes B-X. B-X and valid I-X are kept. Idempotent on IOB2 input, so it also
 * repairs IOB2 sequences that have stray I- starts.
 */
export function iob1ToIob2(tags: readonly string[]): string[] {
  const out = new Array<string>(tags.length);
  let prevType: string | null = null;
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]!;
    const p = parseTag(tag);
    if (p.prefix === 'I' && prevType !== p.type) out[i] = `B-${p.type}`;
    else out[i] = tag;
    prevType = p.prefix === 'B' || p.prefix === 'I' ? p.type : null;
  }
  return out;
}

/**
 * IOB2 -> IOBES (or BILOU with `bilou`): single-token chunks become S-/U-, chunk ends E-/L-.
 * Input is first repaired with `iob1ToIob2` so a stray I- start is treated as a chunk start.
 */
export function iob2ToIobes(tags: readonly string[], bilou = false): string[] {
  const fixed = iob1ToIob2(tags);
  const single = bilou ? 'U' : 'S';
  const last = bilou ? 'L' : 'E';
  const out = new Array<string>(fixed.length);
  for (let i = 0; i < fixed.length; i++) {
    const p = parseTag(fixed[i]!);
    if (p.prefix !== 'B' && p.prefix !== 'I') {
      out[i] = fixed[i]!;
      continue;
    }
    const next = i + 1 < fixed.length ? parseTag(fixed[i + 1]!) : null;
    const continues = next !== null && next.prefix === 'I' && next.type === p.type;
    if (p.prefix === 'B') out[i] = continues ? fixed[i]! : `${single}-${p.type}`;
    else out[i] = continues ? fixed[i]! : `${last}-${p.type}`;
  }
  return out;
}

/** IOBES or BILOU -> IOB2: S-/U- become B-, E-/L- become I-. */
export function iobesToIob2(tags: readonly string[]): string[] {
  return tags.map((tag) => {
    const p = parseTag(tag);
    if (p.prefix === 'S' || p.prefix === 'U') return `B-${p.type}`;
    if (p.prefix === 'E' || p.prefix === 'L') return `I-${p.type}`;
    return tag;
  });
}

/** Converts one sequence between schemes (via IOB2). 'none' only converts to itself. */
export function convertTags(tags: readonly string[], from: TagScheme, to: TagScheme): string[] {
  if (from === to) return tags.slice();
  if (from === 'none' || to === 'none')
    throw new Error(`cannot convert tags from ${from} to ${to}: 'none' means labels without chunk prefixes`);
  let iob2: string[];
  if (from === 'IOB1' || from === 'IOB2') iob2 = iob1ToIob2(tags);
  else iob2 = iob1ToIob2(iobesToIob2(tags));
  switch (to) {
    case 'IOB2':
      return iob2;
    case 'IOBES':
      return iob2ToIobes(iob2, false);
    case 'BILOU':
      return iob2ToIobes(iob2, true);
    case 'IOB1':
      return iob2ToIob1(iob2);
  }
}

/** IOB2 -> IOB1: B-X is kept only where it directly follows a chunk of the same type X. */
export function iob2ToIob1(tags: readonly string[]): string[] {
  const fixed = iob1ToIob2(tags);
  const out = new Array<string>(fixed.length);
  let prevType: string | null = null;
  for (let i = 0; i < fixed.length; i++) {
    const p = parseTag(fixed[i]!);
    if (p.prefix === 'B' && prevType !== p.type) out[i] = `I-${p.type}`;
    else out[i] = fixed[i]!;
    prevType = p.prefix === 'B' || p.prefix === 'I' ? p.type : null;
  }
  return out;
}
