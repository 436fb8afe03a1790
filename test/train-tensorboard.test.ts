/**
 * --report-to tensorboard (issue 22): event files checked against outside references, no Python.
 * - CRC-32C against RFC 3720's test vectors (B.4) and the common "123456789" check value.
 * - Every scalar record tokentune writes is byte-identical to what torch's SummaryWriter wrote for
 *   the same (tag, value, step, wall_time) (test/fixtures/tensorboard/, scripts/fixtures/make-tensorboard-fixtures.py,
 *   which also read both files with TensorBoard's EventAccumulator).
 * - A training run writes the scalar tags transformers' Trainer writes for the same schedule
 *   (hf-trainer-tags.json) except train/total_flos, with the values and steps of log.jsonl, in
 *   output_dir/runs/<Mon DD_HH-MM-SS>_<host>; --logging-dir moves it; --report-to none writes none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32c, maskedCrc32c } from '../src/train/tensorboard/crc32c.js';
import { FILE_VERSION, scalarEvent, tfRecord } from '../src/train/tensorboard/events.js';
import { fixturesDir } from './helpers/fixtures.js';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';

const fx = join(fixturesDir, 'tensorboard');

test('CRC-32C: RFC 3720 B.4 test vectors; masked form as TensorFlow computes it', () => {
  const bytes = (f: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => f(i));
  assert.equal(crc32c(bytes(() => 0)), 0x8a9136aa);
  assert.equal(crc32c(bytes(() => 0xff)), 0x62a8ab43);
  assert.equal(crc32c(bytes((i) => i)), 0x46dd794e);
  assert.equal(crc32c(bytes((i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  const c = 0xe3069283;
  assert.equal(maskedCrc32c(new TextEncoder().encode('123456789')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

/** TFRecord reader for the tests: checks both CRCs of every record. */
function records(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let o = 0; o < buf.length; ) {
    const n = Number(dv.getBigUint64(o, true));
    assert.equal(dv.getUint32(o + 8, true), maskedCrc32c(buf.subarray(o, o + 8)), 'length CRC');
    const data = buf.subarray(o + 12, o + 12 + n);
    assert.equal(dv.getUint32(o + 12 + n, true), maskedCrc32c(data), 'data CRC');
    out.push(data);
    o += 16 + n;
  }
  return out;
}

/** The fields of an Event / Summary.Value that the writer uses, read back. */
function decodeEvent(b: Uint8Array): { wallTime: number; step: number; fileVersion?: string; tag?: string; value?: number } {
  const ev: { wallTime: number; step: number; fileVersion?: string; tag?: string; value?: number } = { wallTime: 0, step: 0 };
  const walk = (buf: Uint8Array, onField: (field: number, wire: number, at: number, len: number, v: number) => void): void => {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let o = 0;
    const varint = (): number => {
      let r = 0,
        m = 1,
        x;
      do {
        x = buf[o++]!;
        r += (x & 0x7f) * m;
        m *= 128;
      } while (x & 0x80);
      return r;
    };
    while (o < buf.length) {
      const key = varint();
      const field = Math.floor(key / 8),
        wire = key % 8;
      if (wire === 0) onField(field, wire, o, 0, varint());
      else if (wire === 1) {
        onField(field, wire, o, 8, dv.getFloat64(o, true));
        o += 8;
      } else if (wire === 5) {
        onField(field, wire, o, 4, dv.getFloat32(o, true));
        o += 4;
      } else {
        const n = varint();
        onField(field, wire, o, n, 0);
        o += n;
      }
    }
  };
  walk(b, (f, wire, at, len, v) => {
    if (f === 1) ev.wallTime = v;
    else if (f === 2) ev.step = v;
    else if (f === 3) ev.fileVersion = new TextDecoder().decode(b.subarray(at, at + len));
    else if (f === 5)
      walk(b.subarray(at, at + len), (f2, _w, at2, len2) => {
        const value = b.subarray(at, at + len).subarray(at2, at2 + len2);
        if (f2 === 1)
          walk(value, (f3, _w3, at3, len3, v3) => {
            if (f3 === 1) ev.tag = new TextDecoder().decode(value.subarray(at3, at3 + len3));
            else if (f3 === 2) ev.value = v3;
          });
      });
    void wire;
  });
  return ev;
}

test("scalar events are byte-identical to torch's SummaryWriter.add_scalar records", () => {
  const fixture = JSON.parse(readFileSync(join(fx, 'scalars.json'), 'utf8')) as {
    written: { tag: string; value: number; step: number; wall_time: number }[];
    read_by_tensorboard: { tag: string; value: number; step: number }[];
  };
  const torchRecords = records(new Uint8Array(readFileSync(join(fx, 'torch-scalars.tfevents'))));
  assert.equal(torchRecords.length, fixture.written.length + 1);
  assert.equal(decodeEvent(torchRecords[0]!).fileVersion, FILE_VERSION);
  fixture.written.forEach((s, i) => {
    const ours = scalarEvent(s.tag, s.value, s.step, s.wall_time);
    assert.deepEqual(Buffer.from(ours), Buffer.from(torchRecords[i + 1]!), `record ${i + 1} (${s.tag} @ ${s.step})`);
    assert.deepEqual(Buffer.from(tfRecord(ours)), Buffer.from(tfRecord(torchRecords[i + 1]!)));
  });
  // What TensorBoard read from torch's file is what the writer was given (as float32).
  for (const r of fixture.read_by_tensorboard) {
    const w = fixture.written.find((x) => x.tag === r.tag && x.step === r.step)!;
    assert.equal(r.value, Math.fround(w.value));
  }
});

test("a training run writes the tags transformers writes (but total_flos), with log.jsonl's values and steps", async () => {
  const hf = JSON.parse(readFileSync(join(fx, 'hf-trainer-tags.json'), 'utf8')) as { tags: string[] };
  const w = cliWork();
  const out = join(w.dir, 'tb');
  const r = await cli(
    quickTrainArgs(w, out, [
      '--validation-file',
      w.validation,
      '--do-train',
      '--do-eval',
      '--report-to',
      'tensorboard',
      '--max-steps',
      '4',
      '--eval-strategy',
      'steps',
      '--eval-steps',
      '2',
    ]),
  );
  assert.equal(r.code, 0, r.err);
  const runs = readdirSync(join(out, 'runs'));
  assert.equal(runs.length, 1);
  assert.match(
    runs[0]!,
    new RegExp(
      `^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\\d\\d_\\d\\d-\\d\\d-\\d\\d_${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
    ),
  );
  const files = readdirSync(join(out, 'runs', runs[0]!));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^events\.out\.tfevents\.\d{10}\./);
  const events = records(new Uint8Array(readFileSync(join(out, 'runs', runs[0]!, files[0]!)))).map(decodeEvent);
  assert.equal(events[0]!.fileVersion, FILE_VERSION);
  const tags = [...new Set(events.slice(1).map((e) => e.tag!))].sort();
  assert.deepEqual(
    tags,
    hf.tags.filter((t) => t !== 'train/total_flos'),
  );
  // Every numeric field of every log.jsonl record, then the final evaluation (eval_results.json).
  const want: [string, number, number][] = [];
  for (const line of readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')) {
    const rec = JSON.parse(line) as Record<string, unknown>;
    for (const [k, v] of Object.entries(rec))
      if (k !== 'step' && typeof v === 'number')
        want.push([k.startsWith('eval_') ? `eval/${k.slice(5)}` : `train/${k}`, rec.step as number, Math.fround(v)]);
  }
  const final = JSON.parse(readFileSync(join(out, 'eval_results.json'), 'utf8')) as Record<string, number>;
  for (const [k, v] of Object.entries(final))
    if (k !== 'eval_samples') want.push([k.startsWith('eval_') ? `eval/${k.slice(5)}` : `train/${k}`, 4, Math.fround(v)]);
  const key = (x: unknown[]): string => JSON.stringify(x);
  assert.deepEqual(
    events
      .slice(1)
      .map((e) => [e.tag, e.step, e.value])
      .map(key)
      .sort(),
    want.map(key).sort(),
  );
  // Steps never go back: TensorBoard draws the events of a tag in file order.
  events.slice(1).forEach((e, i, a) => assert.ok(i === 0 || e.step >= a[i - 1]!.step));
});

test('--logging-dir moves the event files; --report-to none (the default, as transformers 5) writes none', async () => {
  const w = cliWork();
  const logs = join(w.dir, 'my-logs');
  const a = await cli(quickTrainArgs(w, join(w.dir, 'a'), ['--report-to', 'all', '--logging-dir', logs]));
  assert.equal(a.code, 0, a.err);
  assert.equal(readdirSync(logs).filter((f) => f.startsWith('events.out.tfevents.')).length, 1);
  assert.ok(!existsSync(join(w.dir, 'a', 'runs')));
  const b = await cli(quickTrainArgs(w, join(w.dir, 'b')));
  assert.equal(b.code, 0, b.err);
  assert.ok(!existsSync(join(w.dir, 'b', 'runs')));
  const c = await cli(quickTrainArgs(w, join(w.dir, 'c'), ['--report-to', 'wandb']));
  assert.equal(c.code, 0, c.err);
  assert.match(c.err, /report_to wandb is not supported/);
});
