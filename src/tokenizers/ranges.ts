/** Parses "hex,hex-hex,..." (code point lists written by tools/gen-unicode-exceptions.mjs) into a Set. */
export function parseRanges(spec: string): Set<number> {
  const set = new Set<number>();
  if (spec === '') return set;
  for (const part of spec.split(',')) {
    const dash = part.indexOf('-');
    const lo = parseInt(dash < 0 ? part : part.slice(0, dash), 16);
    const hi = dash < 0 ? lo : parseInt(part.slice(dash + 1), 16);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo || hi > 0x10ffff) {
      throw new Error(`bad code point range '${part}'`);
    }
    for (let cp = lo; cp <= hi; cp++) set.add(cp);
  }
  return set;
}

/** The same "hex,hex-hex,..." list as the inside of a `u`/`v` regex character class. */
export function rangesToClass(spec: string): string {
  if (spec === '') return '';
  return spec
    .split(',')
    .map((part) =>
      part
        .split('-')
        .map((h) => `\\u{${h}}`)
        .join('-'),
    )
    .join('');
}
