/**
 * Oniguruma patterns (what the Rust library compiles for Split, Replace and ByteLevel) translated
 * into JavaScript `v`-flag regexes with Oniguruma's character classes.
 */
import { rangesToClass } from '../ranges.js';
import { ONIG_SPACE, ONIG_WORD } from '../rust-class-bases.js';
import { ONIG_UNASSIGNED } from '../unicode-exceptions.js';
import type { JsonCtx } from './json-ctx.js';
import { backtrackingProblem } from './regex-safety.js';

/** Oniguruma's class for a \p{name}: ICU's, without the code points Oniguruma's older tables leave unassigned. */
const UNASSIGNED = `[${rangesToClass(ONIG_UNASSIGNED)}]`;
function onigProperty(name: string, negated: boolean): string {
  // The "unassigned" properties gain those code points instead.
  const cls = ['Cn', 'Unassigned', 'C', 'Other'].includes(name) ? `[\\p{${name}}${UNASSIGNED}]` : `[\\p{${name}}--${UNASSIGNED}]`;
  return negated ? `[^${cls}]` : cls;
}

const SYNTAX_PUNCT = new Set('()[]{}/-\\|&!#%,:;<=>@`~^$.*+?');

/**
 * An Oniguruma pattern (what the Rust library compiles: Split, Replace, ByteLevel) as a JavaScript
 * regex with the `v` flag. \s, \w, \d and \p{..} follow Oniguruma's Unicode tables (older than
 * Node's: see unicode-exceptions.ts), `.` excludes only \n; unsupported syntax fails with the
 * pattern named.
 */
export function compileOniguruma(src: string, ctx: JsonCtx, path: string): RegExp {
  const unsupported = (what: string): never => ctx.fail(path, `${what} is not supported in ${JSON.stringify(src)}`);
  // JavaScript's engine backtracks with no timeout: refuse the shapes that blow up (regex-safety.ts).
  const risk = backtrackingProblem(src);
  if (risk !== null)
    ctx.fail(path, `regex ${JSON.stringify(src.slice(0, 200))} ${risk}; it could take exponential time on some texts, so it is refused`);
  let out = '';
  let depth = 0; // character class nesting
  let atom = false; // inside a class: the previous item can start a range
  const openClass = (i: number): number => {
    depth++;
    out += '[';
    atom = false;
    if (src[i + 1] === '^') {
      out += '^';
      i++;
    }
    if (src[i + 1] === ':') unsupported('a POSIX bracket expression');
    return i;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length) {
      const n = src[++i]!;
      if (n === 's') out += `[${ONIG_SPACE}]`;
      else if (n === 'S') out += `[^${ONIG_SPACE}]`;
      else if (n === 'd' || n === 'D') out += onigProperty('Nd', n === 'D');
      else if (n === 'w' || n === 'W') {
        const word = `[[${ONIG_WORD}]--${UNASSIGNED}]`;
        out += n === 'W' ? `[^${word}]` : word;
      } else if (n === 'p' || n === 'P') {
        let name: string;
        if (src[i + 1] === '{') {
          const end = src.indexOf('}', i);
          if (end < 0) unsupported('an unterminated \\p{');
          name = src.slice(i + 2, end);
          i = end;
        } else name = src[++i] ?? '';
        const caret = name.startsWith('^');
        out += onigProperty(caret ? name.slice(1) : name, (n === 'P') !== caret);
      } else if (n === 'A') out += depth ? unsupported('\\A in a character class') : '(?<![^])';
      else if (n === 'z') out += depth ? unsupported('\\z in a character class') : '(?![^])';
      else if (n === 'h') out += depth ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (SYNTAX_PUNCT.has(n) || n === "'" || n === '"' || n === '_' || n === ' ') out += `\\u{${n.charCodeAt(0).toString(16)}}`;
      else out += '\\' + n; // \t \n \xHH \uHHHH \b ... (anything JS rejects fails below)
      atom = depth > 0;
      continue;
    }
    if (depth === 0) {
      if (ch === '[') i = openClass(i);
      else if (ch === '.') out += '[^\\n]';
      else out += ch;
      continue;
    }
    if (ch === '[') i = openClass(i);
    else if (ch === ']') {
      depth--;
      out += ']';
      atom = depth > 0;
    } else if (ch === '&' && src[i + 1] === '&') unsupported('class intersection (&&)');
    else if (ch === '-' && atom && src[i + 1] !== ']' && i + 1 < src.length) {
      out += '-';
      atom = false;
    } else {
      out += SYNTAX_PUNCT.has(ch) ? '\\' + ch : ch;
      atom = true;
    }
  }
  try {
    return new RegExp(out, 'gv');
  } catch (e) {
    ctx.fail(path, `regex ${JSON.stringify(src)} cannot be compiled: ${(e as Error).message}`);
  }
}
