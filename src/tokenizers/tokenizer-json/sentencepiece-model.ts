/**
 * Reads a SentencePiece ModelProto (sentencepiece_model.proto) without a protobuf library: the
 * pieces (piece, score, type), the trainer's model type and byte_fallback, and the normalizer's
 * precompiled charsmap. Every length is bounds-checked.
 */
import { TokenizerFileError } from '../errors.js';

export interface SpmPiece {
  piece: string;
  score: number;
  type: number;
}
export interface SpmModel {
  pieces: SpmPiece[];
  modelType: number;
  byteFallback: boolean;
  precompiledCharsmap: Uint8Array | null;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  fail(what: string): never {
    throw new TokenizerFileError(this.file, `byte ${this.pos}: ${what} (not a SentencePiece model, or truncated)`);
  }
  varint(): number {
    let v = 0,
      mul = 1;
    for (let k = 0; k < 10; k++) {
      if (this.pos >= this.end) this.fail('varint runs past the end');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes');
  }
  /** [fieldNumber, wireType] or null at the end. */
  tag(): [number, number] | null {
    if (this.pos >= this.end) return null;
    const t = this.varint();
    return [Math.floor(t / 8), t % 8];
  }
  bytes(): [number, number] {
    const len = this.varint();
    if (this.pos + len > this.end) this.fail(`field of ${len} bytes runs past the end`);
    const s = this.pos;
    this.pos += len;
    return [s, this.pos];
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.advance(8);
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.advance(4);
    else this.fail(`unsupported wire type ${wire}`);
  }
  advance(n: number): void {
    if (this.pos + n > this.end) this.fail('field runs past the end');
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function readSentencePieceModel(buf: Uint8Array, file: string): SpmModel {
  const r = new Reader(buf, file, 0, buf.length);
  const model: SpmModel = { pieces: [], modelType: 1, byteFallback: false, precompiledCharsmap: null };
  for (let t = r.tag(); t !== null; t = r.tag()) {
    const [field, wire] = t;
    if (wire !== 2 || field < 1 || field > 3) {
      r.skip(wire);
      continue;
    }
    const [s, e] = r.bytes();
    const sub = new Reader(buf, file, s, e);
    if (field === 1) {
      const p: SpmPiece = { piece: '', score: 0, type: 1 };
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        if (u[0] === 1 && u[1] === 2) {
          const [a, b] = sub.bytes();
          try {
            p.piece = utf8.decode(buf.subarray(a, b));
          } catch {
            sub.fail('piece is not valid UTF-8');
          }
        } else if (u[0] === 2 && u[1] === 5) {
          sub.advance(4);
          p.score = new DataView(buf.buffer, buf.byteOffset + sub.pos - 4, 4).getFloat32(0, true);
        } else if (u[0] === 3 && u[1] === 0) p.type = sub.varint();
        else sub.skip(u[1]);
      }
      model.pieces.push(p);
    } else if (field === 2) {
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        if (u[0] === 3 && u[1] === 0) model.modelType = sub.varint();
        else if (u[0] === 35 && u[1] === 0) model.byteFallback = sub.varint() !== 0;
        else sub.skip(u[1]);
      }
    } else {
      for (let u = sub.tag(); u !== null; u = sub.tag()) {
        if (u[0] === 2 && u[1] === 2) {
          const [a, b] = sub.bytes();
          model.precompiledCharsmap = buf.slice(a, b);
        } else sub.skip(u[1]);
      }
    }
  }
  if (model.pieces.length === 0) throw new TokenizerFileError(file, 'holds no pieces (not a SentencePiece model?)');
  return model;
}
