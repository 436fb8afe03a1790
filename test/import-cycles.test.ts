/**
 * The import structure of src/ (tools/import-cycles.mjs): the import cycles and the imports against
 * DESIGN.md's layer table must be exactly the ones allowed below: none. A new cycle or layer break
 * fails with the files named. (The lists exist so that a deliberate exception is written down here.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.js';

/** Each cycle as its sorted group of files (a strongly connected group of imports). */
const ALLOWED_CYCLES: string[][] = [];

/** `from -> to` where `to`'s folder comes after `from`'s in DESIGN.md's table. */
const ALLOWED_LAYER_BREAKS: string[] = [];

interface Report {
  cycles: { files: string[]; cycles: string[][] }[];
  layerBreaks: string[];
  unknownFolders: string[];
  layers: string[];
}

const run = (root: string) =>
  spawnSync(process.execPath, [join(repoRoot, 'tools', 'import-cycles.mjs'), '--json', '--root', root], { encoding: 'utf8' });
const r = run(repoRoot);
const report = JSON.parse(r.stdout) as Report;

test('the check finds a planted cycle (type-only import included), a layer break and a folder missing from the table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-cycles-'));
  try {
    const put = (f: string, text: string) => {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), text);
    };
    put('DESIGN.md', '| folder | owns |\n|---|---|\n| `src/engine/` | x |\n| `src/io/` | y |\n');
    put('src/engine/a.ts', "import { b } from '../io/b.js';\nexport const a = b;\n");
    put('src/io/b.ts', "import type { C } from './c.js';\nexport const b: C = 1;\n");
    put('src/io/c.ts', "export { b } from './b.js';\nexport type C = number;\nconst lazy = () => import('../extra/d.js');\n");
    put('src/extra/d.ts', "import { a } from '../engine/a.js';\nexport const d = a;\n");
    put('src/index.ts', "export * from './extra/d.js';\n");
    const t = run(dir);
    assert.equal(t.status, 1, t.stderr); // exit 1: it found something
    const got = JSON.parse(t.stdout) as Report;
    assert.deepEqual(
      got.cycles.map((g) => g.files),
      [['src/io/b.ts', 'src/io/c.ts']],
    );
    assert.deepEqual(got.cycles[0]!.cycles, [['src/io/b.ts', 'src/io/c.ts', 'src/io/b.ts']]);
    assert.deepEqual(got.layerBreaks, ['src/engine/a.ts -> src/io/b.ts']);
    assert.deepEqual(got.unknownFolders, ['extra']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tools/import-cycles.mjs reads the layer table and finds the import graph', () => {
  assert.ok(r.stdout.length > 0, r.stderr);
  assert.deepEqual(report.layers.slice(0, 3), ['util', 'engine', 'io'], "DESIGN.md's table starts with util, then engine and io");
  assert.deepEqual(report.unknownFolders, [], "every folder of src/ has a row in DESIGN.md's layer table");
});

test('import cycles in src/ are exactly the allowed ones', () => {
  const found = report.cycles.map((g) => `${g.files.join(' <-> ')}\n    ${g.cycles.map((c) => c.join(' -> ')).join('\n    ')}`);
  assert.deepEqual(
    report.cycles.map((g) => g.files),
    ALLOWED_CYCLES,
    `cycles found:\n  ${found.join('\n  ') || '(none)'}`,
  );
});

test("imports against DESIGN.md's layer order are exactly the allowed ones", () => {
  assert.deepEqual(report.layerBreaks, ALLOWED_LAYER_BREAKS);
});
