/**
 * `serve --workers N`: inference in N child processes, so the server's event loop only parses
 * HTTP and JSON and stays responsive (GET /health answers while a large batch runs). Processes
 * rather than worker threads, because the native kernels keep one process-wide thread pool.
 * Each process gets one batch at a time (the micro-batcher runs N batches at once); a process
 * that dies fails its batch with a 500 and is replaced.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Entity } from './aggregation.js';
import type { RunOptions, TextRequest } from './pipeline.js';
import { PipelineInputError } from './pipeline.js';
import type { FromChild, PoolChildConfig, ToChild } from './pool-protocol.js';
import type { ServedPipeline } from './server.js';

const CHILD = fileURLToPath(new URL('./pool-child.js', import.meta.url));

interface Slot {
  proc: ChildProcess;
  busy: boolean;
  forwardCalls: number;
  pending: Map<number, { resolve: (r: Entity[][]) => void; reject: (e: Error) => void }>;
}

export interface PoolOptions extends PoolChildConfig {
  workers: number;
  /** Kernel threads per process (TOKENTUNE_THREADS); default: the cores shared out, at least 1. */
  threadsPerWorker?: number;
  onWarning?: (message: string) => void;
  /** A process died (it is replaced). */
  onExit?: (line: string) => void;
}

export class PredictorPool implements ServedPipeline {
  name = '';
  labels: readonly string[] = [];
  maxLength = 0;
  private readonly slots: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private nextId = 1;
  private closed = false;
  private stopping = false;
  private retired = 0;
  /** Processes replaced after dying. */
  restarts = 0;

  private constructor(private readonly o: PoolOptions) {}

  /** Starts the processes and waits until every one has loaded the model. */
  static async start(o: PoolOptions): Promise<PredictorPool> {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new RangeError(`workers must be a positive integer, got ${o.workers}`);
    const pool = new PredictorPool(o);
    try {
      await Promise.all(Array.from({ length: o.workers }, () => pool.spawn()));
    } catch (e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  get forwardCalls(): number {
    return this.retired + this.slots.reduce((s, x) => s + x.forwardCalls, 0);
  }

  get workers(): number {
    return this.slots.length;
  }

  /** Process ids of the live inference processes. */
  get pids(): number[] {
    return this.slots.map((s) => s.proc.pid!);
  }

  private spawn(): Promise<Slot> {
    const threads = this.o.threadsPerWorker ?? Math.max(1, Math.floor(availableParallelism() / this.o.workers));
    const env = { ...process.env, TOKENTUNE_THREADS: process.env.TOKENTUNE_THREADS ?? String(threads) };
    const cfg: PoolChildConfig = { model: this.o.model, maxLength: this.o.maxLength, name: this.o.name };
    const proc = fork(CHILD, [JSON.stringify(cfg)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const slot: Slot = { proc, busy: false, forwardCalls: 0, pending: new Map() };
    return new Promise<Slot>((resolve, reject) => {
      let ready = false;
      proc.on('message', (m: FromChild) => {
        if (m.type === 'ready') {
          ready = true;
          Object.assign(this, { name: m.name, labels: m.labels, maxLength: m.maxLength });
          this.slots.push(slot);
          this.release(slot);
          resolve(slot);
        } else if (m.type === 'warning') {
          if (this.slots.length === 0) this.o.onWarning?.(m.message); // once, from the first process
        } else if (m.type === 'load-failed') {
          reject(new Error(m.message));
        } else if (m.type === 'result' || m.type === 'error') {
          const p = slot.pending.get(m.id);
          slot.pending.delete(m.id);
          if (m.type === 'result') {
            slot.forwardCalls = m.forwardCalls;
            p?.resolve(m.results);
          } else {
            const err =
              m.name === 'PipelineInputError' ? new PipelineInputError(m.message) : Object.assign(new Error(m.message), { name: m.name });
            p?.reject(err);
          }
        }
      });
      proc.on('exit', (code, signal) => {
        const k = this.slots.indexOf(slot);
        if (k >= 0) this.slots.splice(k, 1);
        this.retired += slot.forwardCalls;
        for (const p of slot.pending.values()) p.reject(new Error(`the inference process exited (${signal ?? code}) during the request`));
        slot.pending.clear();
        if (!ready) {
          reject(new Error(`an inference process exited (${signal ?? code}) before loading the model`));
          return;
        }
        if (!this.closed && !this.stopping) {
          this.o.onExit?.(`inference process ${proc.pid} exited (${signal ?? code}); starting another`);
          this.restarts++;
          this.spawn().catch((e: Error) => this.o.onExit?.(`cannot restart an inference process: ${e.message}`));
        }
      });
    });
  }

  private release(slot: Slot): void {
    slot.busy = false;
    const next = this.waiting.shift();
    if (next) {
      slot.busy = true;
      next(slot);
    }
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async predictMany(requests: readonly TextRequest[], run: RunOptions = {}): Promise<Entity[][]> {
    if (this.closed) throw new Error('the inference pool is closed');
    run.signal?.throwIfAborted();
    const slot = await this.acquire();
    const id = this.nextId++;
    const onAbort = () => slot.proc.send({ type: 'cancel', id } satisfies ToChild);
    try {
      run.signal?.throwIfAborted();
      return await new Promise<Entity[][]>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        run.signal?.addEventListener('abort', onAbort, { once: true });
        slot.proc.send({ type: 'predict', id, requests: [...requests], batchSize: run.batchSize, stride: run.stride } satisfies ToChild);
      });
    } finally {
      run.signal?.removeEventListener('abort', onAbort);
      if (this.slots.includes(slot)) this.release(slot);
    }
  }

  /** Shutdown has begun: a process that exits from now on is not replaced (batches in hand still run). */
  stopRespawning(): void {
    this.stopping = true;
  }

  /**
   * Ends the processes: disconnecting makes each exit once its current message is done (they
   * ignore SIGTERM, which a process-group signal would deliver mid-request); one still running
   * after 5 s is killed.
   */
  close(): void {
    this.closed = true;
    this.stopping = true;
    for (const s of this.slots) {
      if (s.proc.connected) s.proc.disconnect();
      const t = setTimeout(() => s.proc.kill('SIGKILL'), 5000);
      t.unref();
      s.proc.once('exit', () => clearTimeout(t));
    }
  }
}
