/**
 * A throwaway redis-server for tests: Debian's binary on a free loopback port, no persistence,
 * stopped after the test. `redisServerPath()` is null where redis-server is not installed
 * (tests skip with a message; .ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export function redisServerPath(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : null;
}

export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisInstance {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisInstance> {
  const bin = redisServerPath();
  if (!bin) throw new Error(NO_REDIS);
  const port = await freePort();
  const proc: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const tryConnect = () => {
      if (proc.exitCode !== null) return reject(new Error(`redis-server exited (${proc.exitCode}): ${log.slice(-500)}`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.end('PING\r\n');
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}: ${log.slice(-500)}`));
        else setTimeout(tryConnect, 50);
      });
    };
    tryConnect();
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
