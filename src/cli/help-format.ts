// Help text layout shared by every command: option rows (`  --flag <VALUE>` left, help right,
// continuation lines indented to the help column) and greedy word wrap.

import { canonicalFlagName, type ArgsSpec } from './args.js';

/** Greedy word wrap of one paragraph to `width` columns. */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter((x) => x.length > 0)) {
    if (cur.length > 0 && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur.length ? `${cur} ${w}` : w;
    }
  }
  if (cur.length) lines.push(cur);
  return lines;
}

/**
 * Option rows: `left` padded to column `col`, then the help; a left side too long for that
 * (col - 1 or more) gets the help on the next lines. With `wrapWidth` the help is word-wrapped
 * to that width, otherwise it is one line.
 */
export function layoutOptionRows(rows: readonly (readonly [string, string])[], col: number, wrapWidth?: number): string[] {
  const lines: string[] = [];
  const pad = ' '.repeat(col);
  for (const [left, help] of rows) {
    const right = wrapWidth === undefined ? [help] : wrapWords(help, wrapWidth);
    if (left.length >= col - 1) lines.push(left, ...right.map((r) => pad + r));
    else lines.push((left.padEnd(col) + (right[0] ?? '')).trimEnd(), ...right.slice(1).map((r) => pad + r));
  }
  return lines;
}

/** Help text for the flags of one command: `  --flag <VALUE>   help (default: x)`, aligned. */
export function formatFlagsHelp(spec: ArgsSpec, usage?: string): string {
  const rows: [string, string][] = [];
  for (const [key, f] of Object.entries(spec.flags)) {
    const names = [`--${canonicalFlagName(key)}`, ...(f.alias ?? []).map((a) => (a.length === 1 ? `-${a}` : `--${canonicalFlagName(a)}`))];
    const value = f.type === 'boolean' ? '' : ` <${f.valueName ?? (f.choices ? f.choices.join('|') : f.type.toUpperCase())}>`;
    let help = f.help ?? '';
    if (f.default !== undefined && f.default !== false && !(Array.isArray(f.default) && f.default.length === 0)) {
      help += `${help ? ' ' : ''}(default: ${Array.isArray(f.default) ? f.default.join(',') : String(f.default)})`;
    }
    rows.push([names.join(', ') + value, help]);
  }
  const width = Math.min(40, Math.max(0, ...rows.map(([l]) => l.length)));
  const lines: string[] = [];
  if (usage) lines.push(`Usage: ${usage}`, '');
  if (spec.positionals?.length) {
    lines.push('Arguments:');
    for (const p of spec.positionals) lines.push(`  <${p.name}${p.variadic ? '...' : ''}>${p.help ? `  ${p.help}` : ''}`);
    lines.push('');
  }
  lines.push('Options:');
  lines.push(
    ...layoutOptionRows(
      rows.map(([l, h]) => [`  ${l}`, h] as const),
      width + 4,
    ),
  );
  lines.push(`  ${'-h, --help'.padEnd(width)}  show this help`);
  return lines.join('\n') + '\n';
}
