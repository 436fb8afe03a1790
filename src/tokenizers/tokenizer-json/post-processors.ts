/**
 * tokenizer.json post-processors: the special tokens around a single sequence and, for byte-level
 * BPE, offset trimming (Rust `process_offsets`).
 */
import { JsonCtx, type Obj } from './json-ctx.js';
import { BYTE_TO_CHAR } from './pre-tokenizers.js';
import { isWhiteSpace } from './normalized.js';

export interface SpecialPiece {
  id: number;
  token: string;
  typeId: number;
}

export interface PostProcessor {
  /** Tokens before and after the sequence when special tokens are added. */
  before: SpecialPiece[];
  after: SpecialPiece[];
  /** Type id of the sequence's own tokens. */
  typeId: number;
  /** Trim offsets of byte-level tokens (null: no trimming); addPrefixSpace as in the processor. */
  trim: { addPrefixSpace: boolean } | null;
}

const TYPES = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing', 'ByteLevel', 'Sequence'] as const;

export function buildPostProcessor(v: unknown, ctx: JsonCtx, path: string): PostProcessor {
  const pp: PostProcessor = { before: [], after: [], typeId: 0, trim: null };
  if (v === null || v === undefined) return pp;
  apply(pp, ctx.obj(v, path), ctx, path);
  return pp;
}

function pair(ctx: JsonCtx, o: Obj, key: string, path: string): SpecialPiece {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'number')
    ctx.fail(`${path}.${key}`, `must be ["token", id], got ${JSON.stringify(v)}`);
  return { token: v[0], id: v[1], typeId: 0 };
}

function apply(pp: PostProcessor, o: Obj, ctx: JsonCtx, path: string): void {
  const t = ctx.type(o, path, TYPES);
  switch (t) {
    case 'Sequence':
      ctx.known(o, path, ['processors']);
      ctx
        .sequence(o, 'processors', path)
        .forEach((x, i) => apply(pp, ctx.obj(x, `${path}.processors[${i}]`), ctx, `${path}.processors[${i}]`));
      return;
    case 'ByteLevel':
      ctx.known(o, path, ['add_prefix_space', 'trim_offsets', 'use_regex']);
      if (ctx.bool(o, 'trim_offsets', path, true)) pp.trim = { addPrefixSpace: ctx.bool(o, 'add_prefix_space', path, true) };
      return;
    case 'BertProcessing':
      ctx.known(o, path, ['cls', 'sep']);
      pp.before = [pair(ctx, o, 'cls', path)];
      pp.after = [pair(ctx, o, 'sep', path)];
      return;
    case 'RobertaProcessing':
      ctx.known(o, path, ['cls', 'sep', 'trim_offsets', 'add_prefix_space']);
      pp.before = [pair(ctx, o, 'cls', path)];
      pp.after = [pair(ctx, o, 'sep', path)];
      if (ctx.bool(o, 'trim_offsets', path, true)) pp.trim = { addPrefixSpace: ctx.bool(o, 'add_prefix_space', path, true) };
      return;
    case 'TemplateProcessing': {
      ctx.known(o, path, ['single', 'pair', 'special_tokens']);
      const specials = ctx.obj(o['special_tokens'] ?? {}, `${path}.special_tokens`);
      const single = ctx.arr(o, 'single', path);
      const before: SpecialPiece[] = [],
        after: SpecialPiece[] = [];
      let seen = false;
      single.forEach((piece, i) => {
        const p = ctx.obj(piece, `${path}.single[${i}]`);
        if (p['Sequence'] !== undefined) {
          const s = ctx.obj(p['Sequence'], `${path}.single[${i}].Sequence`);
          if (s['id'] !== 'A' || seen) ctx.fail(`${path}.single[${i}]`, 'a single-sequence template must hold $A exactly once');
          seen = true;
          pp.typeId = ctx.int(s, 'type_id', `${path}.single[${i}].Sequence`, 0);
          return;
        }
        const sp = ctx.obj(p['SpecialToken'], `${path}.single[${i}].SpecialToken`);
        const name = ctx.str(sp, 'id', `${path}.single[${i}].SpecialToken`);
        const typeId = ctx.int(sp, 'type_id', `${path}.single[${i}].SpecialToken`, 0);
        const def = ctx.obj(specials[name], `${path}.special_tokens[${JSON.stringify(name)}]`);
        const ids = ctx.arr(def, 'ids', `${path}.special_tokens[${JSON.stringify(name)}]`);
        const toks = ctx.arr(def, 'tokens', `${path}.special_tokens[${JSON.stringify(name)}]`);
        if (ids.length !== toks.length) ctx.fail(`${path}.special_tokens[${JSON.stringify(name)}]`, 'ids and tokens differ in length');
        ids.forEach((id, k) => {
          if (typeof id !== 'number' || typeof toks[k] !== 'string')
            ctx.fail(`${path}.special_tokens[${JSON.stringify(name)}]`, 'ids must be numbers and tokens strings');
          (seen ? after : before).push({ id, token: toks[k] as string, typeId });
        });
      });
      if (!seen) ctx.fail(`${path}.single`, 'the template has no $A');
      pp.before = before;
      pp.after = after;
      return;
    }
  }
}

const SPACE_CHAR = BYTE_TO_CHAR[32]!;

/**
 * Rust's ByteLevel process_offsets, on one token (offsets changed in place). Rust counts in code
 * points; `text` (what the offsets index) converts when it holds astral characters (`astral`).
 */
export function trimOffsets(
  token: string,
  off: [number, number],
  index: number,
  addPrefixSpace: boolean,
  text: string,
  astral: boolean,
): void {
  // Spaces are BMP characters, so UTF-16 units can be scanned directly (a surrogate is never one).
  const isSpace = (c: number) => c === SPACE_CHAR || isWhiteSpace(c);
  const n = token.length;
  let lead = 0;
  while (lead < n && isSpace(token.charCodeAt(lead))) lead++;
  let trail = 0;
  while (trail < n && isSpace(token.charCodeAt(n - 1 - trail))) trail++;
  if (lead === 0 && trail === 0) return;
  if (astral) {
    off[0] = cpIndex(text, off[0]);
    off[1] = cpIndex(text, off[1]);
  }
  if (lead > 0) {
    const isFirst = index === 0 || off[0] === 0;
    if (isFirst && addPrefixSpace && lead === 1) lead = 0;
    off[0] = Math.min(off[0] + lead, off[1]);
  }
  if (trail > 0 && off[1] >= trail) off[1] = Math.max(off[1] - trail, off[0]);
  if (astral) {
    off[0] = unitIndex(text, off[0]);
    off[1] = unitIndex(text, off[1]);
  }
}

function cpIndex(text: string, unit: number): number {
  let cp = 0;
  for (let u = 0; u < unit; cp++) u += text.codePointAt(u)! > 0xffff ? 2 : 1;
  return cp;
}

function unitIndex(text: string, cp: number): number {
  let u = 0;
  for (let k = 0; k < cp && u < text.length; k++) u += text.codePointAt(u)! > 0xffff ? 2 : 1;
  return u;
}
