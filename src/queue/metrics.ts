/**
 * A worker's counters, as Prometheus text (`--metrics-port`: GET /metrics) or one JSON line
 * (`--log-every`, and once at exit).
 */
import http from 'node:http';

export class WorkerCounters {
  /** Results written (first outcome for their message). */
  processed = 0;
  /** Tagging attempts that threw (the message stays pending for a retry). */
  failed = 0;
  /** Messages moved to the dead-letter stream. */
  deadLettered = 0;
  /** Messages taken over from idle consumers (XAUTOCLAIM). */
  reclaimed = 0;
  /** Results not written because another worker had written them first. */
  duplicates = 0;
  batches = 0;
  /** Time spent tagging and writing, in ms. */
  busyMs = 0;
  readonly startedAt = Date.now();
  /** Process CPU time when the counters started (after the model loaded). */
  private readonly cpuAtStart = process.cpuUsage();

  snapshot(depth?: { pending: number; lag: number | null }): Record<string, number | null> {
    const s = (Date.now() - this.startedAt) / 1000;
    return {
      processed: this.processed,
      failed: this.failed,
      dead_lettered: this.deadLettered,
      reclaimed: this.reclaimed,
      duplicates: this.duplicates,
      batches: this.batches,
      ...(depth ? { pending: depth.pending, lag: depth.lag } : {}),
      uptime_s: Math.round(s * 10) / 10,
      throughput_per_s: Math.round((this.processed / Math.max(s, 1e-3)) * 10) / 10,
      busy_throughput_per_s: Math.round((this.processed / Math.max(this.busyMs / 1000, 1e-3)) * 10) / 10,
      cpu_s: Math.round(cpuSeconds(process.cpuUsage(this.cpuAtStart)) * 1000) / 1000,
    };
  }
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

const HELP: Record<string, [string, string]> = {
  processed: ['counter', 'Results written by this worker'],
  failed: ['counter', 'Tagging attempts that failed (message left pending for a retry)'],
  dead_lettered: ['counter', 'Messages moved to the dead-letter stream by this worker'],
  reclaimed: ['counter', 'Messages reclaimed from idle consumers (XAUTOCLAIM)'],
  duplicates: ['counter', 'Results already written by another worker (not written again)'],
  batches: ['counter', 'Tagging batches'],
  pending: ['gauge', 'Messages of the group delivered but not acknowledged (XPENDING)'],
  lag: ['gauge', 'Messages of the stream not yet delivered to the group'],
  uptime_s: ['gauge', 'Seconds since the worker started'],
  throughput_per_s: ['gauge', 'Results per second since the start'],
  busy_throughput_per_s: ['gauge', 'Results per second of tagging time'],
  cpu_s: ['counter', 'CPU seconds used by the worker process since it started work (all threads)'],
};

export function prometheusText(snap: Record<string, number | null>, consumer: string): string {
  const label = `{consumer=${JSON.stringify(consumer)}}`;
  let out = '';
  for (const [k, v] of Object.entries(snap)) {
    if (v === null) continue;
    const [type, help] = HELP[k] ?? ['gauge', k];
    const name = `tokentune_worker_${k}${type === 'counter' ? '_total' : ''}`;
    out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${label} ${v}\n`;
  }
  return out;
}

/** GET /metrics on host:port; everything else 404. */
export function metricsServer(read: () => Promise<string>): http.Server {
  return http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('try GET /metrics\n');
      return;
    }
    read().then(
      (text) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(text),
      (e: Error) => res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`metrics unavailable: ${e.message}\n`),
    );
  });
}
