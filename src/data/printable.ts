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
