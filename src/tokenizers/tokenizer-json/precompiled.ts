/**
 * SentencePiece's precompiled normalizer (the `precompiled_charsmap` XLM-R and DeBERTa-v3 ship):
 * a darts-clone double-array trie over UTF-8 keys whose values index a table of NUL-terminated
 * replacement strings. Layout: u32 LE trie size in bytes, the trie units, then the strings.
 * Applied as Rust `tokenizers` does: per extended grapheme cluster, the whole cluster if it is
 * shorter than 6 bytes and the trie has a prefix of it, else character by character.
 */
import { TokenizerConfigError } from '../errors.js';
import type { NStr } from './normalized.js';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly memo = new Map<string, string | null>();
  private readonly segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

  constructor(blob: Uint8Array, where: string) {
    if (blob.length < 4) throw new TokenizerConfigError(`${where}: precompiled_charsmap is ${blob.length} bytes, too short for its header`);
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = dv.getUint32(0, true);
    if (trieSize % 4 !== 0 || 4 + trieSize > blob.length) {
      throw new TokenizerConfigError(`${where}: precompiled_charsmap declares a ${trieSize}-byte trie but holds ${blob.length - 4} bytes`);
    }
    this.units = new Uint32Array(trieSize / 4);
    for (let k = 0; k < this.units.length; k++) this.units[k] = dv.getUint32(4 + 4 * k, true);
    this.strings = blob.subarray(4 + trieSize);
  }

  /** Values of the keys that are prefixes of `key`, shortest first (darts-clone commonPrefixSearch). */
  private firstPrefixValue(key: Uint8Array): number {
    const u = this.units;
    if (u.length === 0) return -1;
    let pos = 0;
    let unit = u[0]!;
    pos ^= offsetOf(unit);
    for (let i = 0; i < key.length; i++) {
      const c = key[i]!;
      if (c === 0) break;
      pos ^= c;
      if (pos >= u.length) return -1;
      unit = u[pos]!;
      if ((unit & 0x800000ff) >>> 0 !== c) return -1;
      pos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        if (pos >= u.length) return -1;
        return u[pos]! & 0x7fffffff;
      }
    }
    return -1;
  }

  private readonly ascii: (string | null | undefined)[] = new Array(128);
  private asciiMap(c: number): string | null {
    let r = this.ascii[c];
    if (r === undefined) r = this.ascii[c] = this.transform(String.fromCharCode(c));
    return r;
  }

  /** The replacement for a chunk, or null when the trie has no prefix of it. */
  transform(chunk: string): string | null {
    let r = this.memo.get(chunk);
    if (r !== undefined) return r;
    const v = this.firstPrefixValue(utf8.encode(chunk));
    if (v < 0) r = null;
    else {
      if (v >= this.strings.length)
        throw new TokenizerConfigError(`precompiled_charsmap: value ${v} points past its ${this.strings.length}-byte string table`);
      let end = v;
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      try {
        r = utf8d.decode(this.strings.subarray(v, end));
      } catch {
        throw new TokenizerConfigError(`precompiled_charsmap: replacement at byte ${v} is not valid UTF-8`);
      }
    }
    if (this.memo.size < 1 << 16) this.memo.set(chunk, r);
    return r;
  }

  normalize(n: NStr): void {
    // ASCII without CR: every grapheme is one character, so skip the segmenter.
    let ascii = true;
    for (const c of n.cps)
      if (c >= 0x80 || c === 13) {
        ascii = false;
        break;
      }
    if (ascii) {
      let hit = -1;
      for (let i = 0; i < n.cps.length; i++)
        if (this.asciiMap(n.cps[i]!) !== null) {
          hit = i;
          break;
        }
      if (hit < 0) return;
    }
    const text = n.text();
    const items: [number, number][] = [];
    let modified = false;
    const replace = (oldPart: string, newPart: string) => {
      const oldCount = [...oldPart].length;
      const news = [...newPart].map((ch) => [ch.codePointAt(0)!, 0] as [number, number]);
      const diff = news.length - oldCount;
      items.push(...news);
      if (diff > 0) {
        for (let k = items.length - 1, left = diff; left > 0 && k >= 0; k--, left--) items[k]![1] = 1;
      } else if (diff < 0 && items.length > 0) {
        items[items.length - 1]![1] += diff;
      }
    };
    // Rust's byte-length test: a grapheme shorter than 6 UTF-8 bytes is looked up whole.
    for (const { segment } of this.segmenter.segment(text)) {
      if (utf8.encode(segment).length < 6) {
        const norm = this.transform(segment);
        if (norm !== null) {
          modified = true;
          replace(segment, norm);
          continue;
        }
      }
      for (const ch of segment) {
        const norm = this.transform(ch);
        if (norm !== null) {
          modified = true;
          replace(ch, norm);
        } else items.push([ch.codePointAt(0)!, 0]);
      }
    }
    if (modified) n.transform(items, 0);
  }
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}
