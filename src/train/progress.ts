// Console progress for training. On a terminal: one bar redrawn in place (at most ~10 times a
// second, so printing never costs measurable time), e.g.
//   [=====>    ] 120/600 3.2 it/s ETA 02:30 loss 0.4312 lr 1.2e-05
// Elsewhere (CI logs, files): a plain line every N steps, since carriage returns make a mess there.
// Log records and evaluation tables are printed above the bar.

import { formatMetricsTable } from '../metrics/metrics-table.js';

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressInfo {
  loss?: number;
  lr?: number;
  epoch?: number;
}

export interface ProgressOptions {
  /** Total optimizer steps. */
  total: number;
  /** Defaults to process.stderr. */
  stream?: ProgressStream;
  /** Force bar (true) or plain lines (false); default: stream.isTTY. */
  tty?: boolean;
  /** Print nothing at all for progress (log lines and tables still print). */
  disabled?: boolean;
  /** Off a terminal: a line every this many steps (default: about 20 lines per run). */
  plainEvery?: number;
  /** Minimum time between two redraws of the bar, in ms (default 100). */
  minIntervalMs?: number;
  /** Bar width in characters between the brackets (default 30). */
  barWidth?: number;
  /** Step the run starts from (when resuming). */
  initialStep?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** `[=====>    ]` for a fraction in [0, 1]. */
export function formatBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.floor(f * width);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}]`;
}

/** mm:ss below an hour, h:mm:ss above, '?' when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

/** `3.2 it/s`, or `4.50 s/it` when slower than one step a second (as tqdm). */
export function formatRate(stepsPerSecond: number): string {
  if (!Number.isFinite(stepsPerSecond) || stepsPerSecond <= 0) return '? it/s';
  if (stepsPerSecond < 1) return `${(1 / stepsPerSecond).toFixed(2)} s/it`;
  return `${stepsPerSecond.toFixed(stepsPerSecond < 10 ? 1 : 0)} it/s`;
}

/** Python's '%.1e' (two-digit exponent): 1.2e-05. */
export function formatSci(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return String(x);
  const [mant, exp] = x.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mant}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

function formatInfo(info: ProgressInfo): string {
  const parts: string[] = [];
  if (info.loss !== undefined) parts.push(`loss ${Number.isFinite(info.loss) ? info.loss.toFixed(4) : String(info.loss)}`);
  if (info.lr !== undefined) parts.push(`lr ${formatSci(info.lr)}`);
  return parts.join(' ');
}

/** One status line: `[bar] step/total rate ETA mm:ss loss x lr y`. */
export function formatProgressLine(p: {
  step: number;
  total: number;
  rate: number;
  info?: ProgressInfo;
  barWidth?: number;
  bar?: boolean;
}): string {
  const parts: string[] = [];
  if (p.bar !== false) parts.push(formatBar(p.total > 0 ? p.step / p.total : 0, p.barWidth ?? 30));
  parts.push(`${p.step}/${p.total}`);
  if (p.bar === false && p.total > 0) parts.push(`(${Math.floor((100 * p.step) / p.total)}%)`);
  parts.push(formatRate(p.rate));
  parts.push(`ETA ${p.rate > 0 ? formatDuration((p.total - p.step) / p.rate) : '?'}`);
  const info = p.info ? formatInfo(p.info) : '';
  if (info) parts.push(info);
  return parts.join(' ');
}

/** A log record as one line: `step 120 | epoch 0.40 | loss 0.4312 | learning_rate 1.2e-05 | ...`. */
export function formatLogLine(record: Readonly<Record<string, unknown>>): string {
  const parts = [`step ${String(record.step)}`];
  if (typeof record.epoch === 'number') parts.push(`epoch ${record.epoch.toFixed(2)}`);
  for (const [k, v] of Object.entries(record)) {
    if (k === 'step' || k === 'epoch' || v === undefined) continue;
    if (typeof v === 'number') {
      const s =
        k.includes('learning_rate') || (Math.abs(v) < 1e-3 && v !== 0) ? formatSci(v, 2) : Number.isInteger(v) ? String(v) : v.toFixed(4);
      parts.push(`${k} ${s}`);
    } else {
      parts.push(`${k} ${String(v)}`);
    }
  }
  return parts.join(' | ');
}

export class TrainingProgress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly minInterval: number;
  private readonly plainEvery: number;
  private readonly samples: { t: number; step: number }[] = [];
  private lastDraw = -Infinity;
  private step: number;
  private info: ProgressInfo = {};
  private barVisible = false;
  private closed = false;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.minInterval = opts.minIntervalMs ?? 100;
    this.plainEvery = Math.max(1, opts.plainEvery ?? Math.ceil(opts.total / 20));
    this.step = opts.initialStep ?? 0;
    this.samples.push({ t: this.now(), step: this.step });
  }

  /** Steps per second over the recent past (sliding window of the last updates). */
  rate(): number {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const dt = (last.t - first.t) / 1000;
    return dt > 0 ? (last.step - first.step) / dt : 0;
  }

  /** (Re)starts timing at `step` (the global step a resumed run starts from). */
  start(step = 0): void {
    this.step = step;
    this.samples.length = 0;
    this.samples.push({ t: this.now(), step });
    if (this.tty && !this.opts.disabled) this.draw(this.now());
  }

  /** Call after each optimizer step with the new global step. */
  update(step: number, info?: ProgressInfo): void {
    if (this.closed) return;
    this.step = step;
    if (info) this.info = { ...this.info, ...info };
    const t = this.now();
    this.samples.push({ t, step });
    // The window spans ~the last 50 updates: responsive to speed changes, steady enough to read.
    if (this.samples.length > 50) this.samples.shift();
    if (this.opts.disabled) return;
    if (this.tty) {
      if (t - this.lastDraw >= this.minInterval || step >= this.opts.total) this.draw(t);
    } else if (step % this.plainEvery === 0 || step === this.opts.total) {
      this.stream.write(formatProgressLine({ step, total: this.opts.total, rate: this.rate(), info: this.info, bar: false }) + '\n');
    }
  }

  /** Prints a log record as a line (above the bar on a terminal). */
  log(record: Readonly<Record<string, unknown>>): void {
    this.print(formatLogLine(record));
  }

  /** Routes a Trainer record: evaluation / final metrics as a table, anything else as a log line. */
  record(rec: Readonly<Record<string, unknown>>): void {
    const keys = Object.keys(rec);
    const isTable = keys.some((k) => /^(eval|test|predict)_/.test(k)) || keys.includes('train_runtime');
    if (isTable) this.metrics(rec);
    else this.log(rec);
  }

  /** Prints evaluation (or train) metrics as an aligned table. */
  metrics(record: Readonly<Record<string, unknown>>, title?: string): void {
    this.print(formatMetricsTable(record, title).replace(/\n$/, ''));
  }

  /** Prints any text, keeping the bar below it intact. */
  print(text: string): void {
    if (this.tty && this.barVisible) this.stream.write('\r\x1b[K');
    this.stream.write(text + '\n');
    this.barVisible = false;
    if (this.tty && !this.opts.disabled && !this.closed) this.draw(this.now());
  }

  /** Same as close(). */
  finish(): void {
    this.close();
  }

  /** Draws the final state and ends the bar's line. */
  close(): void {
    if (this.closed) return;
    if (this.tty && !this.opts.disabled) {
      this.draw(this.now());
      this.stream.write('\n');
    }
    this.barVisible = false;
    this.closed = true;
  }

  private draw(t: number): void {
    this.lastDraw = t;
    let line = formatProgressLine({
      step: this.step,
      total: this.opts.total,
      rate: this.rate(),
      info: this.info,
      barWidth: this.opts.barWidth ?? 30,
    });
    const cols = this.stream.columns;
    if (cols && line.length > cols - 1) line = line.slice(0, Math.max(0, cols - 1));
    this.stream.write(`\r${line}\x1b[K`);
    this.barVisible = true;
  }
}

/** Earlier name of TrainingProgress. */
export const ProgressReporter = TrainingProgress;
