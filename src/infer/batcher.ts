/**
 * Micro-batching for the server: requests that arrive within a few milliseconds of each other
 * (or while a batch is running) share forward calls. A batch closes when `maxWaitMs` has passed
 * since its first request or when it holds `maxBatchTexts` texts; `concurrency` batches run at
 * a time (1 in process; one per inference process with `serve --workers N`).
 */
import type { Entity } from './aggregation.js';
import type { RunOptions, TextRequest } from './pipeline.js';

export interface BatchPredictor {
  predictMany(requests: readonly TextRequest[], run?: RunOptions): Promise<Entity[][]>;
}

export interface MicroBatcherOptions {
  /** How long the first request of a batch waits for company. Default 5 ms. */
  maxWaitMs?: number;
  /** Texts that close a batch at once (a single larger request runs alone). Default 32. */
  maxBatchTexts?: number;
  /** Passed to predictMany (batchSize: windows per forward call). */
  run?: RunOptions;
  /** Batches run at once. Default 1. */
  concurrency?: number;
}

interface Waiting {
  requests: readonly TextRequest[];
  resolve: (r: Entity[][]) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

export class MicroBatcher {
  /** Batches run and texts predicted, for /health and tests. */
  batches = 0;
  texts = 0;
  /** Texts dropped because their client hung up before they ran. */
  cancelled = 0;
  private readonly queue: Waiting[] = [];
  private queuedTexts = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = 0;
  private readonly concurrency: number;
  private closed = false;
  private readonly maxWaitMs: number;
  private readonly maxBatchTexts: number;

  constructor(
    private readonly predictor: BatchPredictor,
    private readonly opts: MicroBatcherOptions = {},
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 5;
    this.maxBatchTexts = opts.maxBatchTexts ?? 32;
    if (!(this.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${this.maxWaitMs}`);
    if (!Number.isInteger(this.maxBatchTexts) || this.maxBatchTexts < 1)
      throw new RangeError(`maxBatchTexts must be a positive integer, got ${this.maxBatchTexts}`);
    this.concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
  }

  /**
   * Entities for each request, computed together with whatever else is waiting. When `signal`
   * aborts (the client hung up), a queued request leaves the queue, and a running batch stops
   * at its next forward call once every request in it has been abandoned.
   */
  submit(requests: readonly TextRequest[], signal?: AbortSignal): Promise<Entity[][]> {
    if (this.closed) return Promise.reject(new Error('the batcher is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const w: Waiting = { requests, resolve, reject, signal };
      this.queue.push(w);
      this.queuedTexts += requests.length;
      signal?.addEventListener(
        'abort',
        () => {
          const k = this.queue.indexOf(w);
          if (k < 0) return; // already running: runTogether decides
          this.queue.splice(k, 1);
          this.queuedTexts -= requests.length;
          this.cancelled += requests.length;
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  /** Stops the timer; waiting requests fail. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.queue.splice(0)) w.reject(new Error('the server is shutting down'));
    this.queuedTexts = 0;
  }

  private schedule(): void {
    if (this.running >= this.concurrency || this.queue.length === 0) return;
    if (this.queuedTexts >= this.maxBatchTexts) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.maxWaitMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.running >= this.concurrency || this.queue.length === 0) return;
    const taken: Waiting[] = [];
    let n = 0;
    while (this.queue.length > 0 && (taken.length === 0 || n + this.queue[0]!.requests.length <= this.maxBatchTexts)) {
      const w = this.queue.shift()!;
      taken.push(w);
      n += w.requests.length;
    }
    this.queuedTexts -= n;
    this.running++;
    if (this.queue.length > 0) this.schedule(); // with spare concurrency, the rest need not wait
    try {
      await this.runTogether(taken);
    } finally {
      this.running--;
      // Whatever arrived during the run has waited long enough: go again at once.
      if (this.queue.length > 0 && !this.closed) setImmediate(() => void this.flush());
    }
  }

  private async runTogether(taken: Waiting[]): Promise<void> {
    const all = taken.flatMap((w) => w.requests);
    this.batches++;
    this.texts += all.length;
    // The batch stops early only when no one is left waiting for it.
    const abandon = new AbortController();
    const check = () => {
      if (taken.every((w) => w.signal?.aborted)) abandon.abort(taken[0]!.signal!.reason);
    };
    for (const w of taken) w.signal?.addEventListener('abort', check, { once: true });
    check();
    let results: Entity[][];
    try {
      results = await this.predictor.predictMany(all, { ...this.opts.run, signal: abandon.signal });
      if (abandon.signal.aborted) throw abandon.signal.reason; // a predictor that ignores the signal
    } catch (e) {
      if (taken.length === 1 || abandon.signal.aborted) {
        if (abandon.signal.aborted) this.cancelled += all.length;
        for (const w of taken) w.reject(e);
        return;
      }
      // One bad request must not fail its neighbours: retry each on its own.
      for (const w of taken) {
        try {
          w.signal?.throwIfAborted();
          w.resolve(await this.predictor.predictMany(w.requests, { ...this.opts.run, signal: w.signal }));
        } catch (err) {
          w.reject(err);
        }
      }
      return;
    }
    let k = 0;
    for (const w of taken) {
      w.resolve(results.slice(k, k + w.requests.length));
      k += w.requests.length;
    }
  }
}
