/** tokenizer.json decoders (tokens -> text), each a step of Rust's decode_chain; joined at the end. */
import { rustTokenCleanup } from '../decode.js';
import { JsonCtx } from './json-ctx.js';
import { BYTE_TO_CHAR } from './pre-tokenizers.js';

export type Decoder = (tokens: string[]) => string;
type Step = (tokens: string[]) => string[];
const TYPES = ['ByteLevel', 'Metaspace', 'WordPiece', 'BPEDecoder', 'ByteFallback', 'Fuse', 'Strip', 'Replace', 'Sequence'] as const;

const CHAR_TO_BYTE = new Map<number, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true }); // keep a leading U+FEFF, as Rust does
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function buildDecoder(v: unknown, ctx: JsonCtx, path: string): Decoder | null {
  if (v === null || v === undefined) return null;
  const step = buildStep(v, ctx, path);
  return (tokens) => step(tokens).join('');
}

function buildStep(v: unknown, ctx: JsonCtx, path: string): Step {
  const o = ctx.obj(v, path);
  const t = ctx.type(o, path, TYPES);
  switch (t) {
    case 'Sequence': {
      const steps = ctx.sequence(o, 'decoders', path).map((x, i) => buildStep(x, ctx, `${path}.decoders[${i}]`));
      return (toks) => steps.reduce((acc, s) => s(acc), toks);
    }
    case 'ByteLevel':
      // As Rust: a token whose every character is in the byte alphabet becomes those bytes; any
      // other token (text already decoded, as the pipeline passes words back in) its own UTF-8.
      return (toks) => {
        const bytes: number[] = [];
        for (const tok of toks) {
          const mapped: number[] = [];
          for (const ch of tok) {
            const b = CHAR_TO_BYTE.get(ch.codePointAt(0)!);
            if (b === undefined) {
              mapped.length = 0;
              break;
            }
            mapped.push(b);
          }
          if (mapped.length > 0 || tok === '') bytes.push(...mapped);
          else bytes.push(...Buffer.from(tok));
        }
        return [utf8.decode(Uint8Array.from(bytes))];
      };
    case 'Metaspace': {
      const rep = ctx.str(o, 'replacement', path, '\u2581');
      const scheme = ctx.optStr(o, 'prepend_scheme', path) ?? (ctx.bool(o, 'add_prefix_space', path, true) ? 'always' : 'never');
      return (toks) =>
        toks.map((tok, i) => {
          const s = tok.split(rep).join(' ');
          return i === 0 && scheme !== 'never' && s.startsWith(' ') ? s.slice(1) : s;
        });
    }
    case 'WordPiece': {
      const prefix = ctx.str(o, 'prefix', path, '##');
      const cleanup = ctx.bool(o, 'cleanup', path, true);
      return (toks) =>
        toks.map((tok, i) => {
          let s = tok;
          if (i > 0) s = s.startsWith(prefix) ? s.slice(prefix.length) : ' ' + s;
          return cleanup ? rustTokenCleanup(s) : s;
        });
    }
    case 'BPEDecoder': {
      const suffix = ctx.str(o, 'suffix', path, '</w>');
      return (toks) => toks.map((tok, i) => tok.split(suffix).join(i === toks.length - 1 ? '' : ' '));
    }
    case 'ByteFallback':
      return (toks) => {
        const out: string[] = [];
        let pending: number[] = [];
        const flush = () => {
          if (pending.length === 0) return;
          // Invalid UTF-8: one U+FFFD per byte, as Rust's ByteFallback decoder.
          try {
            out.push(utf8Strict.decode(Uint8Array.from(pending)));
          } catch {
            out.push('\ufffd'.repeat(pending.length));
          }
          pending = [];
        };
        for (const tok of toks) {
          const m = /^<0x([0-9A-F]{2})>$/.exec(tok);
          if (m) pending.push(parseInt(m[1]!, 16));
          else {
            flush();
            out.push(tok);
          }
        }
        flush();
        return out;
      };
    case 'Fuse':
      return (toks) => [toks.join('')];
    case 'Strip': {
      const content = ctx.str(o, 'content', path);
      const start = ctx.int(o, 'start', path, 0),
        stop = ctx.int(o, 'stop', path, 0);
      return (toks) =>
        toks.map((tok) => {
          const cs = [...tok];
          let a = 0,
            b = cs.length;
          while (a < start && a < b && cs[a] === content) a++;
          while (cs.length - b < stop && b > a && cs[b - 1] === content) b--;
          return cs.slice(a, b).join('');
        });
    }
    case 'Replace': {
      const p = ctx.pattern(o['pattern'], `${path}.pattern`);
      const content = ctx.str(o, 'content', path);
      if ('regex' in p) ctx.fail(`${path}.pattern`, 'a regex Replace decoder is not supported');
      return (toks) => toks.map((tok) => tok.split(p.string).join(content));
    }
  }
  return (toks) => toks;
}
