/**
 * Text from a data file, made safe to print. Control characters (C0 other than TAB and LF, DEL,
 * C1) in a token or tag would otherwise reach the terminal raw: an ESC sequence can recolour,
 * retitle or clear it. They are shown as \xHH escapes instead.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A JSON value for an error message: primitives as JSON, lists and objects by kind only, since a
 * hostile value may be nested 100,000 deep (JSON.stringify overflows the stack) or hold gigabytes.
 */
export function describeJson(v: unknown): string {
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (v !== null && typeof v === 'object') return 'an object';
  return JSON.stringify(typeof v === 'bigint' ? String(v) : v) ?? String(v);
}
