#!/usr/bin/env node
// npm's install step: builds the native addon with node-gyp, quietly. A clean build prints one
// line; a failed one prints node-gyp's whole output (what is needed to fix it) and fails the install.
// Uses the node-gyp that npm ships (npm_config_node_gyp), else the one on PATH.
import { spawnSync } from 'node:child_process';

const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const started = Date.now();
const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, shell: !gyp && process.platform === 'win32' });
if (r.status !== 0) {
  process.stderr.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  process.stderr.write(
    `\ntokentune: building the native addon failed${r.error ? ` (${r.error.message})` : ''}.\n` +
      'It needs a C++17 compiler, make and Python 3 (Debian/Ubuntu: apt-get install build-essential python3).\n',
  );
  process.exit(r.status ?? 1);
}
process.stdout.write(`tokentune: native addon built in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
