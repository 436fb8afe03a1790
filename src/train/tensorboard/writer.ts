/**
 * --report-to tensorboard: the Trainer's log records as TensorBoard scalars, with the tags and
 * steps transformers' TensorBoardCallback gives them (rewrite_logs: eval_x -> eval/x, test_x ->
 * test/x, anything else -> train/x; the step is the global step), in an event file under
 * logging_dir (default output_dir/runs/<Mon DD_HH-MM-SS>_<host>, transformers' default_logdir()).
 * Each record is appended and closed at once, so a killed run leaves every event written so far.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileVersionEvent, scalarEvent, tfRecord } from './events.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** transformers' default_logdir(): runs/<strftime("%b%d_%H-%M-%S")>_<hostname>, local time. */
export function defaultLogdir(now = new Date(), host = hostname()): string {
  return join(
    'runs',
    `${MONTHS[now.getMonth()]}${pad(now.getDate())}_${pad(now.getHours())}-${pad(now.getMinutes())}-${pad(now.getSeconds())}_${host}`,
  );
}

/** transformers' rewrite_logs: the TensorBoard tag of a log key. */
export function tensorboardTag(key: string): string {
  if (key.startsWith('eval_')) return `eval/${key.slice(5)}`;
  if (key.startsWith('test_')) return `test/${key.slice(5)}`;
  return `train/${key}`;
}

/** --report-to: 'tensorboard' or 'all' (the only integration here) turns the event files on. */
export function reportsToTensorboard(reportTo: string): boolean {
  return reportTo.split(/[\s,]+/).some((r) => r === 'tensorboard' || r === 'all');
}

export class TensorBoardWriter {
  readonly path: string;

  /** Creates logDir and its event file (named as TensorFlow names them), starting with file_version. */
  constructor(
    readonly logDir: string,
    private readonly clock: () => number = () => Date.now() / 1000,
  ) {
    mkdirSync(logDir, { recursive: true });
    const now = this.clock();
    this.path = join(logDir, `events.out.tfevents.${String(Math.floor(now)).padStart(10, '0')}.${hostname()}.${process.pid}.0`);
    this.append([tfRecord(fileVersionEvent(now))], 'w');
  }

  /** One scalar event per numeric field of a Trainer record; `step` is the x axis, strings are skipped. */
  logRecord(rec: Readonly<Record<string, unknown>>): void {
    const step = typeof rec.step === 'number' ? rec.step : 0;
    const wall = this.clock();
    const out: Uint8Array[] = [];
    for (const [k, v] of Object.entries(rec)) {
      if (k === 'step' || typeof v !== 'number') continue;
      out.push(tfRecord(scalarEvent(tensorboardTag(k), v, step, wall)));
    }
    if (out.length) this.append(out, 'a');
  }

  private append(records: Uint8Array[], flags: 'w' | 'a'): void {
    const fd = openSync(this.path, flags);
    try {
      for (const r of records) {
        let off = 0;
        while (off < r.length) off += writeSync(fd, r, off, r.length - off);
      }
    } finally {
      closeSync(fd);
    }
  }
}
