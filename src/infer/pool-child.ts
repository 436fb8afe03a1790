/**
 * An inference process of `serve --workers N`: loads the pipeline, then answers predict
 * messages one at a time (the parent sends at most one at a time per process) and stops a
 * request's work between forward calls when the parent cancels it.
 */
import type { FromChild, PoolChildConfig, ToChild } from './pool-protocol.js';
import { pipeline } from './pipeline.js';

const send = (m: FromChild) => process.send!(m);

async function main(): Promise<void> {
  // The parent decides when this process ends (it disconnects): a SIGTERM/SIGINT to the whole
  // process group (Ctrl-C, systemd, docker stop) must not end it under a request in flight.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  // The parent is gone (crashed or closed): nothing left to serve.
  process.on('disconnect', () => process.exit(0));
  const cfg = JSON.parse(process.argv[2] ?? '{}') as PoolChildConfig;
  let pipe;
  try {
    pipe = await pipeline(cfg.model, {
      maxLength: cfg.maxLength,
      name: cfg.name,
      onWarning: (message) => send({ type: 'warning', message }),
    });
  } catch (e) {
    send({ type: 'load-failed', message: (e as Error).message });
    process.disconnect();
    return;
  }
  const running = new Map<number, AbortController>();
  process.on('message', (m: ToChild) => {
    if (m.type === 'cancel') {
      running.get(m.id)?.abort();
      return;
    }
    const ac = new AbortController();
    running.set(m.id, ac);
    pipe
      .predictMany(m.requests, { batchSize: m.batchSize, stride: m.stride, signal: ac.signal })
      .then(
        (results) => send({ type: 'result', id: m.id, results, forwardCalls: pipe.forwardCalls }),
        (e: Error) => send({ type: 'error', id: m.id, message: e?.message ?? String(e), name: e?.name ?? 'Error' }),
      )
      .finally(() => running.delete(m.id));
  });
  send({ type: 'ready', name: pipe.name, labels: [...pipe.labels], maxLength: pipe.maxLength });
}

void main();
