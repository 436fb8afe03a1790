import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  TrainingProgress,
  formatBar,
  formatDuration,
  formatLogLine,
  formatProgressLine,
  formatRate,
  formatSci,
} from '../src/train/progress.js';
import { formatMetricsTable } from '../src/metrics/metrics-table.js';
import { escapeXml, niceTicks, renderTrainingPlot, writeTrainingPlot } from '../src/train/plot.js';
import { CliArgsError, canonicalFlagName, parseArgs, parseBoolWord, parseNumberWord, splitFlag } from '../src/cli/args.js';
import { formatFlagsHelp } from '../src/cli/help-format.js';

class FakeStream {
  chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(s: string): boolean {
    this.chunks.push(s);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

test('progress line pieces', () => {
  assert.equal(formatBar(0.5, 10), '[=====>    ]');
  assert.equal(formatBar(0, 4), '[>   ]');
  assert.equal(formatBar(1, 4), '[====]');
  assert.equal(formatBar(7, 4), '[====]');
  assert.equal(formatDuration(150), '02:30');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatRate(3.2), '3.2 it/s');
  assert.equal(formatRate(12.3), '12 it/s');
  assert.equal(formatRate(0.25), '4.00 s/it');
  assert.equal(formatSci(1.2e-5), '1.2e-05');
  assert.equal(formatSci(5e-5, 2), '5.00e-05');
  assert.equal(formatSci(123456), '1.2e+05');
  assert.equal(
    formatProgressLine({ step: 120, total: 600, rate: 3.2, info: { loss: 0.43121, lr: 1.2e-5 }, barWidth: 10 }),
    '[==>       ] 120/600 3.2 it/s ETA 02:30 loss 0.4312 lr 1.2e-05',
  );
  assert.equal(formatProgressLine({ step: 120, total: 600, rate: 0, bar: false }), '120/600 (20%) ? it/s ETA ?');
});

test('TTY: redrawn in place, throttled to the refresh interval, logs printed above the bar', () => {
  const s = new FakeStream(true, 200);
  let now = 0;
  const p = new TrainingProgress({ total: 100, stream: s, now: () => now, barWidth: 10 });
  p.start(0);
  const drawsAtStart = s.chunks.length;
  for (let step = 1; step <= 50; step++) {
    now += 10; // 100 it/s
    p.update(step, { loss: 1 / step, lr: 1e-5 });
  }
  const draws = s.chunks.length - drawsAtStart;
  assert.ok(draws >= 4 && draws <= 6, `drew ${draws} times in 0.5 s`);
  assert.ok(
    s.chunks.every((c) => !c.includes('\n')),
    'bar redraws never add lines',
  );
  assert.match(s.chunks[s.chunks.length - 1]!, /^\r\[=*>? *\] \d+\/100 100 it\/s ETA 00:01 loss 0\.\d{4} lr 1\.0e-05\x1b\[K$/);
  p.record({ loss: 0.5, learning_rate: 1e-5, epoch: 0.5, step: 50 });
  assert.ok(s.text.includes('\r\x1b[Kstep 50 | epoch 0.50 | loss 0.5000 | learning_rate 1.00e-05\n'));
  p.record({ eval_loss: 0.4, eval_f1: 0.81234, step: 50, epoch: 0.5 });
  assert.ok(s.text.includes('***** eval metrics *****'));
  now += 10;
  p.update(100);
  p.finish();
  assert.ok(s.text.endsWith('\n'));
  assert.match(s.text, /\[==========\] 100\/100/);
});

test('not a TTY: a plain line every N steps, no carriage returns', () => {
  const s = new FakeStream(false);
  let now = 0;
  const p = new TrainingProgress({ total: 20, stream: s, now: () => now, plainEvery: 5 });
  for (let step = 1; step <= 20; step++) {
    now += 500;
    p.update(step, { loss: 0.5 });
  }
  p.close();
  const lines = s.text.trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[0]),
    ['5/20', '10/20', '15/20', '20/20'],
  );
  assert.equal(lines[1], '10/20 (50%) 2.0 it/s ETA 00:05 loss 0.5000');
  assert.ok(!s.text.includes('\r'));
  const quiet = new FakeStream(false);
  const q = new TrainingProgress({ total: 10, stream: quiet, disabled: true });
  q.update(10);
  q.close();
  assert.equal(quiet.text, '');
});

test('formatMetricsTable: HF log_metrics layout, entity types gathered in a table', () => {
  const t = formatMetricsTable({
    eval_loss: 0.31234567,
    eval_precision: 0.5,
    eval_f1: 0.81,
    eval_runtime: 12.3456,
    epoch: 3,
    step: 300,
    eval_LOC_precision: 0.9,
    eval_LOC_recall: 0.8,
    eval_LOC_f1: 0.84705882,
    eval_LOC_number: 1837,
    eval_PER_precision: 0.95,
    eval_PER_recall: 0.9,
    eval_PER_f1: 0.92432432,
    eval_PER_number: 1842,
    eval_overall_f1: 0.88,
  });
  assert.equal(
    t,
    [
      '***** eval metrics *****',
      '  epoch           =          3',
      '  eval_f1         =       0.81',
      '  eval_loss       =     0.3123',
      '  eval_overall_f1 =       0.88',
      '  eval_precision  =        0.5',
      '  eval_runtime    = 0:00:12.35',
      '',
      '  type  precision     recall         f1     number',
      '  LOC      0.9000     0.8000     0.8471       1837',
      '  PER      0.9500     0.9000     0.9243       1842',
      '',
    ].join('\n'),
  );
  assert.match(formatMetricsTable({ train_loss: 0.5, train_runtime: 3725.5 }), /train_runtime = 1:02:05\.50/);
});

test('formatLogLine', () => {
  assert.equal(
    formatLogLine({ loss: 0.1234567, grad_norm: 2.5, learning_rate: 3e-5, epoch: 1.2345, step: 10 }),
    'step 10 | epoch 1.23 | loss 0.1235 | grad_norm 2.5000 | learning_rate 3.00e-05',
  );
});

// ---- plot ----

function checkWellFormed(svg: string): void {
  // Every tag closes in order; attribute values are quoted; no raw '<' or '&' in text.
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    const between = svg.slice(last, m.index);
    assert.ok(!/[<>]/.test(between) && !/&(?!(amp|lt|gt|quot|apos);)/.test(between), `bad text: ${between}`);
    last = re.lastIndex;
    if (m[1]) assert.equal(stack.pop(), m[2], `mismatched </${m[2]}>`);
    else if (!m[4]) stack.push(m[2]!);
  }
  assert.equal(svg.slice(last).trim(), '');
  assert.deepEqual(stack, []);
}

const pointsOf = (svg: string, series: string): [number, number][] => {
  const m = new RegExp(`data-series="${series}"[^>]*points="([^"]*)"`).exec(svg);
  assert.ok(m, `no polyline for ${series}`);
  return m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
};

test('renderTrainingPlot: both panels, one point per record, valid markup, escaped text', () => {
  const records: Record<string, unknown>[] = [];
  for (let s = 10; s <= 100; s += 10) records.push({ step: s, loss: 2 / s, learning_rate: 1e-5, epoch: s / 100 });
  for (const s of [50, 100]) records.push({ step: s, eval_loss: 0.5, eval_f1: s / 200, epoch: s / 100 });
  records.push({ step: 100, train_loss: 0.4, train_runtime: 1 });
  records.push({ step: 30, loss: NaN }); // skipped, not drawn at NaN
  const svg = renderTrainingPlot(records, { title: 'WNUT <17> & "co"' });
  checkWellFormed(svg);
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes('WNUT &lt;17&gt; &amp; &quot;co&quot;'));
  assert.equal(pointsOf(svg, 'training loss').length, 10);
  assert.equal(pointsOf(svg, 'eval loss').length, 2);
  const f1 = pointsOf(svg, 'eval_f1');
  assert.equal(f1.length, 2);
  // Larger F1 is drawn higher (smaller y); the two points share the x of steps 50 and 100 above.
  assert.ok(f1[1]![1] < f1[0]![1]);
  const loss = pointsOf(svg, 'training loss');
  assert.equal(loss[4]![0], f1[0]![0]);
  assert.ok(!svg.includes('NaN'));
  assert.match(svg, />step</);
  assert.match(svg, /class="legend"/);

  const empty = renderTrainingPlot([]);
  checkWellFormed(empty);
  assert.equal((empty.match(/no data/g) ?? []).length, 2);
  assert.ok(!empty.includes('<polyline'));

  const overall = renderTrainingPlot([{ step: 5, eval_overall_f1: 0.7 }]);
  assert.equal(pointsOf(overall, 'eval_overall_f1').length, 1);
});

test('writeTrainingPlot writes the SVG into the output folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-plot-'));
  try {
    const p = writeTrainingPlot(join(dir, 'out'), [
      { step: 1, loss: 1 },
      { step: 2, loss: 0.5 },
    ]);
    assert.ok(p.endsWith('training_curves.svg'));
    checkWellFormed(readFileSync(p, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('niceTicks and escapeXml', () => {
  assert.deepEqual(
    niceTicks(0, 1).ticks.map((t) => +t.toFixed(10)),
    [0, 0.2, 0.4, 0.6, 0.8, 1],
  );
  assert.deepEqual(niceTicks(0, 1200, 8).ticks, [0, 200, 400, 600, 800, 1000, 1200]);
  assert.deepEqual(niceTicks(0, 3, 8, 1).ticks, [0, 1, 2, 3]);
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  fc.assert(
    fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (lo, span) => {
      const { ticks, min, max, step } = niceTicks(lo, lo + span);
      // Covers the data up to rounding far below one tick step.
      assert.ok(min <= lo + step * 1e-6 && max >= lo + span - step * 1e-6);
      assert.ok(ticks.length >= 2 && ticks.length <= 12, `${ticks.length} ticks`);
    }),
  );
});

// ---- cli/args ----

const SPEC = {
  flags: {
    port: { type: 'int', alias: ['p'], default: 8080, help: 'Port to listen on.' },
    host: { type: 'string', help: 'Host.' },
    verbose: { type: 'boolean', alias: ['v'], default: false },
    aggregationStrategy: { type: 'string', choices: ['none', 'simple', 'first'], default: 'simple' },
    threshold: { type: 'number' },
    label: { type: 'list', default: [] as string[] },
  },
  positionals: [
    { name: 'model', required: true },
    { name: 'files', variadic: true },
  ],
} as const;

test('cli args: flag forms, booleans, aliases, lists, positionals', () => {
  const r = parseArgs(
    [
      'model-dir',
      '--port=9000',
      '-v',
      '--aggregation_strategy',
      'first',
      '--threshold',
      '-0.5',
      'a.txt',
      '--label',
      'PER,LOC',
      '--label=ORG',
      '--',
      '--not-a-flag',
    ],
    SPEC,
  );
  assert.equal(r.values.port, 9000);
  assert.equal(r.values.verbose, true);
  assert.equal(r.values.aggregationStrategy, 'first');
  assert.equal(r.values.threshold, -0.5);
  assert.deepEqual(r.values.label, ['PER', 'LOC', 'ORG']);
  assert.equal(r.values.host, undefined);
  assert.deepEqual(r.positionals, ['model-dir', 'a.txt', '--not-a-flag']);
  assert.equal(r.named.model, 'model-dir');
  assert.deepEqual(r.named.files, ['a.txt', '--not-a-flag']);
  const d = parseArgs(['m', '--no-verbose', '--aggregationStrategy=none'], SPEC);
  assert.equal(d.values.port, 8080);
  assert.equal(d.values.verbose, false);
  assert.equal(d.values.aggregationStrategy, 'none');
  assert.equal(parseArgs(['m', '--verbose=false'], SPEC).values.verbose, false);
  assert.equal(parseArgs(['--help'], SPEC).help, true, 'help skips the required positional check');
});

test('cli args: errors are specific and suggest the nearest flag', () => {
  assert.throws(() => parseArgs(['m', '--prot', '1'], SPEC), { message: "unknown option '--prot'; did you mean '--port'?" });
  assert.throws(() => parseArgs(['m', '--aggregation-strategie=x'], SPEC), /did you mean '--aggregation-strategy'/);
  assert.throws(() => parseArgs(['m', '--port', 'abc'], SPEC), { message: "--port: expected a number, got 'abc'" });
  assert.throws(() => parseArgs(['m', '--port', '1.5'], SPEC), /--port: expected an integer, got '1.5'/);
  assert.throws(() => parseArgs(['m', '--aggregation-strategy', 'max'], SPEC), /expected one of 'none', 'simple', 'first', got 'max'/);
  assert.throws(() => parseArgs(['m', '--host'], SPEC), /--host: expected a value/);
  assert.throws(() => parseArgs([], SPEC), /missing argument <model>/);
  assert.throws(() => parseArgs(['a', 'b'], { flags: {}, positionals: [{ name: 'x' }] }), /unexpected argument 'b'/);
  assert.throws(() => parseArgs(['m', '--verbose=maybe'], SPEC), CliArgsError);
  assert.throws(() => parseArgs([], { flags: { a: { type: 'string', alias: ['b'] }, b: { type: 'string' } } }), /used twice/);
});

test('cli args: help text and helpers', () => {
  const h = formatFlagsHelp(SPEC, 'tokentune serve <model> [options]');
  assert.match(h, /^Usage: tokentune serve <model> \[options\]/);
  assert.match(h, /--port, -p <INT> +Port to listen on\. \(default: 8080\)/);
  assert.match(h, /--aggregation-strategy <none\|simple\|first>/);
  assert.match(h, /-h, --help/);
  assert.equal(canonicalFlagName('maxLength'), 'max-length');
  assert.equal(canonicalFlagName('max_length'), 'max-length');
  assert.deepEqual(splitFlag('--a=b=c'), { name: 'a', value: 'b=c', short: false });
  assert.equal(splitFlag('-5'), null);
  assert.equal(splitFlag('value'), null);
  assert.equal(parseBoolWord('Yes'), true);
  assert.equal(parseBoolWord('off'), false);
  assert.equal(parseBoolWord('maybe'), null);
  assert.equal(parseNumberWord('1e-3'), 0.001);
  assert.equal(parseNumberWord('0x10'), null);
  assert.equal(parseNumberWord(''), null);
});

test('property: any value survives --flag=value and --flag value', () => {
  fc.assert(
    fc.property(fc.string(), (v) => {
      assert.equal(parseArgs(['m', `--host=${v}`], SPEC).values.host, v);
      assert.equal(parseArgs(['m', '--host', v], SPEC).values.host, v);
    }),
  );
  fc.assert(
    fc.property(fc.integer(), (n) => {
      assert.equal(parseArgs(['m', '--port', String(n)], SPEC).values.port, n);
    }),
  );
});
