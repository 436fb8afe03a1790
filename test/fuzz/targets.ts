/**
 * Fuzz targets for the readers of untrusted files: pickle, zip, torch checkpoint, safetensors,
 * config.json and the data readers. Each target pairs a fast-check generator (mutations of a
 * valid file plus structure-aware hostile inputs) with a check: the reader either succeeds or
 * throws its own error class, within a time and memory budget per input.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { bufferSource } from '../../src/io/byte-source.js';
import { CheckpointFormatError } from '../../src/io/errors.js';
import { readSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { parseTorchPickle } from '../../src/io/torch-pickle.js';
import { readTorchCheckpoint } from '../../src/io/torch-zip.js';
import { openZip } from '../../src/io/zip.js';
import { ConfigError, parseConfig } from '../../src/models/config.js';
import { architectureFor } from '../../src/models/registry.js';
import { DataFormatError, LabelMapError, decodeTextBytes, parseConll, parseConllu, parseJsonl, readParquet } from '../../src/data/index.js';
import { f32Storage, statePickle, torchArchive, type ViewSpec } from '../helpers/torch-zip-builder.js';

export interface Budget {
  /** Most wall time one input may take. */
  ms: number;
  /** Most memory (heap + array buffers, or RSS) one input may add. */
  mb: number;
}

export const DEFAULT_BUDGET: Budget = { ms: 1000, mb: 256 };

export interface FuzzStats {
  target: string;
  runs: number;
  accepted: number;
  refused: number;
  maxMs: number;
  maxMB: number;
}

export interface Target {
  name: string;
  /** Inputs, each run through `run`; `run` returns normally or throws. */
  arb: fc.Arbitrary<unknown>;
  run: (input: unknown) => unknown;
  /** The error classes that mean "input refused" (anything else is a finding). */
  refusals: Function[];
}

const mib = 2 ** 20;
const mem = (): number => {
  const m = process.memoryUsage();
  return Math.max(m.heapUsed + m.arrayBuffers, 0);
};

/** Byte edits (overwrite, insert, cut) of a valid file. */
function mutations(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.tuple(fc.nat(base.length), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete'));
  return fc
    .tuple(fc.array(edit, { minLength: 1, maxLength: 8 }), fc.option(fc.nat(base.length), { nil: undefined }))
    .map(([edits, cut]) => {
      let b = Array.from(base);
      for (const [i, v, kind] of edits) {
        const at = i % (b.length + 1);
        if (kind === 'set' && at < b.length) b[at] = v;
        else if (kind === 'insert') b.splice(at, 0, v);
        else b.splice(at, 1);
      }
      if (cut !== undefined) b = b.slice(0, cut);
      return Uint8Array.from(b);
    });
}

/** A few interesting integers: the edges of every width the readers decode. */
const edgeInt = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.constantFrom(0, 1, 255, 256, 4096, 65535, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.nat(),
);

// A valid base for each binary format.
const VIEWS: ViewSpec[] = [
  { name: 'emb.weight', storage: '0', storageNumel: 12, offset: 0, shape: [3, 4], stride: [4, 1] },
  { name: 'emb.t', storage: '0', storageNumel: 12, offset: 1, shape: [2, 2], stride: [1, 4] },
  { name: 'bias', storage: '1', storageNumel: 4, offset: 0, shape: [4], stride: [1] },
];
const STORAGES = new Map([
  ['0', f32Storage(12)],
  ['1', f32Storage(4)],
]);
const PICKLE = statePickle(VIEWS);
const ARCHIVE = torchArchive(VIEWS, STORAGES);
const SAFETENSORS = serializeSafetensors(
  new Map([
    ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['b', { shape: [0], data: new Float32Array(0) }],
    ['c', { shape: [], data: Float32Array.from([7]) }],
  ]),
  { format: 'pt' },
);

/** Opcodes of the restricted pickle, each with plausible arguments, in random order. */
const pickleOps = fc
  .array(
    fc.oneof(
      fc
        .constantFrom(
          0x28,
          0x7d,
          0x5d,
          0x29,
          0x4e,
          0x88,
          0x89,
          0x74,
          0x85,
          0x86,
          0x87,
          0x73,
          0x75,
          0x61,
          0x65,
          0x94,
          0x52,
          0x62,
          0x51,
          0x30,
          0x31,
          0x32,
          0x93,
        )
        .map((o) => [o]),
      fc.tuple(fc.constantFrom(0x4b, 0x71, 0x68, 0x8c, 0x43, 0x8a), fc.integer({ min: 0, max: 255 })).map(([o, n]) => [o, n]),
      fc
        .tuple(fc.constantFrom(0x4a, 0x58, 0x42, 0x72, 0x6a, 0x8b), edgeInt)
        .map(([o, n]) => [o, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]),
      fc
        .constantFrom('collections\nOrderedDict\n', 'torch._utils\n_rebuild_tensor_v2\n', 'torch\nFloatStorage\n', 'os\nsystem\n')
        .map((g) => [0x63, ...Buffer.from(g)]),
      fc.string({ maxLength: 8 }).map((s) => {
        const b = Buffer.from(s);
        return [0x8c, b.length, ...b];
      }),
    ),
    { maxLength: 64 },
  )
  .map((ops) => Uint8Array.from([0x80, 2, ...ops.flat(), 0x2e]));

/** Structure-aware hostile torch archives: any shapes, strides, offsets and declared sizes. */
const hostileViews = fc
  .array(
    fc.record({
      shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(4096, 65536, 2 ** 31)), { maxLength: 4 }),
      stride: fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), edgeInt), { maxLength: 4 }),
      offset: fc.oneof(fc.integer({ min: 0, max: 16 }), edgeInt),
      declared: fc.oneof(fc.constant(-1), fc.constant(-1), fc.integer({ min: 0, max: 16 }), edgeInt), // -1: the true size
      actual: fc.integer({ min: 0, max: 16 }),
      storage: fc.constantFrom('0', '1', '2'),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((vs) => {
    const storages = new Map<string, Uint8Array>();
    const views: ViewSpec[] = vs.map((v, i) => {
      if (!storages.has(v.storage)) storages.set(v.storage, f32Storage(v.actual));
      const rank = Math.min(v.shape.length, v.stride.length);
      const actual = storages.get(v.storage)!.length / 4;
      return {
        name: `t${i}`,
        storage: v.storage,
        storageNumel: v.declared < 0 ? actual : v.declared,
        offset: v.offset,
        shape: v.shape.slice(0, rank),
        stride: v.stride.slice(0, rank),
      };
    });
    return torchArchive(views, storages);
  });

/** safetensors files built from a hostile header: any dtype, shape and offsets. */
const hostileSafetensors = fc
  .tuple(
    fc.dictionary(
      fc.string({ maxLength: 6 }),
      fc.record({
        dtype: fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'BOOL', 'U8', 'F8_E4M3', 'X'),
        shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 8 }), edgeInt), { maxLength: 4 }),
        data_offsets: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 64 }), edgeInt), fc.oneof(fc.integer({ min: 0, max: 64 }), edgeInt)),
      }),
      { maxKeys: 6 },
    ),
    fc.integer({ min: 0, max: 128 }),
    fc.option(fc.oneof(edgeInt, fc.constant(2 ** 53)), { nil: undefined }),
    fc.boolean(),
  )
  .map(([header, dataLen, lenOverride, tile]) => {
    if (tile) {
      // Offsets that tile the data region, so the checks past the tiling rule are reached too.
      let at = 0;
      const size: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, BOOL: 1, U8: 1 };
      for (const e of Object.values(header)) {
        const n = e.shape.reduce((a, d) => a * d, 1) * (size[e.dtype] ?? 1);
        e.data_offsets = [at, at + n];
        at += n;
      }
      if (at <= 4096) dataLen = at;
    }
    const json = Buffer.from(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataLen);
    new DataView(out.buffer).setBigUint64(0, BigInt(lenOverride ?? json.length), true);
    out.set(json, 8);
    return out;
  });

const SIZE_FIELDS = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
  'pad_token_id',
];
const hostileConfig = fc.oneof(
  fc.dictionary(
    fc.constantFrom(...SIZE_FIELDS),
    fc.oneof(edgeInt, fc.constantFrom(1e9, 1e12, 1e300, -1, 0.5, Infinity, NaN), fc.jsonValue({ maxDepth: 1 })),
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

const textLike = (alphabet: string[]): fc.Arbitrary<string> =>
  fc.array(fc.oneof(fc.constantFrom(...alphabet), fc.string({ maxLength: 4, unit: 'binary' })), { maxLength: 80 }).map((a) => a.join(''));
const conllText = textLike(['\n', '\r\n', '\r', '\t', ' ', 'EU', 'B-ORG', 'I-ORG', 'O', '-DOCSTART-', '#', '1', '_', 'B-', 'I-X']);
const conlluText = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.string({ maxLength: 3 }), fc.constantFrom('_', 'NOUN', 'B-X', 'O'), fc.boolean()), {
    maxLength: 12,
  })
  .map((rows) => rows.map(([id, form, tag, blank]) => (blank ? '\n' : `${id}\t${form || 'w'}\t_\t${tag}\t_\t_\t0\troot\t_\t_\n`)).join(''));
const jsonlText = fc.oneof(
  textLike(['\n', '{', '}', '[', ']', '"tokens"', '"ner_tags"', ':', ',', '"O"', '"B-X"', '0', '1e999', 'null', '"a"']),
  fc
    .array(
      fc.integer({ min: 0, max: 4 }).chain((n) =>
        fc.record(
          {
            tokens: fc.oneof(
              fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: n, maxLength: n }),
              fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null))),
            ),
            ner_tags: fc.oneof(
              fc.array(fc.constantFrom('O', 'B-X', 'I-X'), { minLength: n, maxLength: n }),
              fc.array(fc.oneof(fc.constantFrom('O', 'B-X', 'I-X', 'X'), fc.integer({ min: -2, max: 5 }))),
            ),
          },
          { requiredKeys: [] },
        ),
      ),
      { maxLength: 5 },
    )
    .map((rs) => rs.map((r) => JSON.stringify(r)).join('\n')),
);

const PARQUET = new Uint8Array(
  parquetWriteBuffer({
    columnData: [
      { name: 'tokens', data: [['a', 'b'], ['c']] },
      { name: 'ner_tags', data: [['O', 'B-X'], ['O']] },
    ],
  }),
);

export function targets(tmpFile: string): Target[] {
  const io = [CheckpointFormatError];
  const data = [DataFormatError, LabelMapError];
  return [
    {
      name: 'pickle',
      refusals: io,
      arb: fc.oneof(mutations(PICKLE), pickleOps, fc.uint8Array({ maxLength: 64 })),
      run: (b) => parseTorchPickle(b as Uint8Array),
    },
    {
      name: 'zip',
      refusals: io,
      arb: fc.tuple(fc.oneof(mutations(ARCHIVE), fc.uint8Array({ maxLength: 128 })), fc.boolean()),
      run: (input) => {
        const [b, verifyCrc] = input as [Uint8Array, boolean];
        const z = openZip(bufferSource(b), { verifyCrc });
        for (const name of z.entries.keys()) z.read(name);
      },
    },
    {
      name: 'torch-checkpoint',
      refusals: io,
      arb: fc.oneof(mutations(ARCHIVE), hostileViews),
      run: (b) => readTorchCheckpoint(b as Uint8Array, { verifyCrc: false }),
    },
    {
      name: 'safetensors',
      refusals: io,
      arb: fc.oneof(mutations(SAFETENSORS), hostileSafetensors),
      run: (b) => readSafetensors(b as Uint8Array),
    },
    {
      name: 'config',
      refusals: [ConfigError],
      arb: hostileConfig,
      // A config that parses must also yield its parameter list at once (where 1e7 layers hung).
      run: (j) => architectureFor(parseConfig(j)).paramSpecs(parseConfig(j), 3),
    },
    {
      name: 'data-text',
      refusals: data,
      arb: fc.oneof(
        fc.uint8Array({ maxLength: 128 }),
        conllText.map((s) => new Uint8Array(Buffer.from(s))),
      ),
      run: (b) => decodeTextBytes(b as Uint8Array, 'in.txt'),
    },
    { name: 'data-conll', refusals: data, arb: conllText, run: (s) => parseConll(s as string, 'in.txt') },
    { name: 'data-conllu', refusals: data, arb: fc.oneof(conllText, conlluText), run: (s) => parseConllu(s as string, 'in.conllu') },
    { name: 'data-jsonl', refusals: data, arb: jsonlText, run: (s) => parseJsonl(s as string, 'in.jsonl') },
    {
      name: 'data-parquet',
      refusals: data,
      arb: mutations(PARQUET),
      run: (b) => {
        writeFileSync(tmpFile, b as Uint8Array);
        return readParquet(tmpFile);
      },
    },
  ];
}

/** Runs `runs` inputs of one target; throws (with the input) on any finding. */
export async function fuzz(t: Target, runs: number, budget: Budget = DEFAULT_BUDGET, seed?: number): Promise<FuzzStats> {
  const stats: FuzzStats = { target: t.name, runs: 0, accepted: 0, refused: 0, maxMs: 0, maxMB: 0 };
  await fc.assert(
    fc.asyncProperty(t.arb, async (input) => {
      const m0 = mem();
      const r0 = process.memoryUsage.rss();
      const t0 = performance.now();
      try {
        await t.run(input);
        stats.accepted++;
      } catch (e) {
        if (!t.refusals.some((k) => e instanceof k)) throw new Error(`${t.name}: unexpected ${(e as Error)?.stack ?? String(e)}`);
        if (((e as Error).message ?? '').length > 4096) throw new Error(`${t.name}: error message of ${(e as Error).message.length} chars`);
        stats.refused++;
      }
      const ms = performance.now() - t0;
      const mb = Math.max(mem() - m0, process.memoryUsage.rss() - r0) / mib;
      stats.runs++;
      stats.maxMs = Math.max(stats.maxMs, ms);
      stats.maxMB = Math.max(stats.maxMB, mb);
      if (ms > budget.ms) throw new Error(`${t.name}: one input took ${ms.toFixed(0)} ms (budget ${budget.ms})`);
      if (mb > budget.mb) throw new Error(`${t.name}: one input added ${mb.toFixed(0)} MB (budget ${budget.mb})`);
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
  return stats;
}
