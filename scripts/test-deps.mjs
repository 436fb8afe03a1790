#!/usr/bin/env node
// The ONNX tests and benches compare with onnxruntime-node and transformers.js. They are not in
// package.json: onnxruntime-node's install script downloads CUDA libraries (hundreds of MB, from a
// host beyond the npm registry) on Linux x64, which a CPU tool neither needs nor may reach. Its CPU
// build ships inside the npm package, so `npm test` installs both here with install scripts off.
// Idempotent (nothing to do when the pinned versions are present); never fails the run: without
// them (offline, empty npm cache) the ONNX tests skip and say why.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned: the ONNX tests' tolerances were set against these versions. */
const TEST_DEPS = { 'onnxruntime-node': '1.30.0', '@huggingface/transformers': '4.3.1' };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function installedVersion(name) {
  const file = path.join(root, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}

const missing = Object.entries(TEST_DEPS).filter(([name, v]) => installedVersion(name) !== v);
if (missing.length > 0) {
  const specs = missing.map(([name, v]) => `${name}@${v}`);
  console.log(`test-deps: installing ${specs.join(' ')} (install scripts off: no CUDA download)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(
    npm,
    ['install', '--no-save', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
    { cwd: root, stdio: 'inherit' },
  );
  if (res.status !== 0) {
    console.log(`test-deps: could not install ${specs.join(' ')} (exit ${res.status ?? res.error?.message}); the ONNX tests will skip`);
  }
}
