/**
 * Trap 13: the folder `tokentune export --onnx` writes runs in transformers.js inside a real
 * headless Chromium, with no network: a 127.0.0.1 server serves the page, transformers.js's browser
 * bundle and onnxruntime-web's WebAssembly files from node_modules, and the exported folder. The
 * page runs pipeline('token-classification') with transformers.js's defaults (so config.json's
 * transformers.js_config must steer it to onnx/model.onnx instead of model_quantized.onnx), and
 * the result must equal tokentune's own pipeline on the source model: every token's label and word,
 * scores within 1e-4. The model is test/fixtures/pipeline-wnut/model (a tiny BERT trained on WNUT-17
 * for 300 steps) with a random classifier on top, so that the argmax lands on entity labels too
 * (as trained, it tags every token O).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { runExport } from '../src/cli/export.js';
import { Rng } from '../src/engine/index.js';
import { loadModelFromDir, savePretrained } from '../src/models/index.js';
import { pipeline, type TokenEntity } from '../src/infer/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { chromiumSkip, launchChromium, waitUntil } from './helpers/chromium.js';
import { fixturesDir, repoRoot } from './helpers/fixtures.js';

const TJS_DIST = join(repoRoot, 'node_modules', '@huggingface', 'transformers', 'dist');
const ORT_DIST = join(repoRoot, 'node_modules', 'onnxruntime-web', 'dist');
const skip =
  chromiumSkip ||
  (!existsSync(join(TJS_DIST, 'transformers.js')) ? `transformers.js's browser bundle is absent (${TJS_DIST}; npm install)` : false) ||
  (!existsSync(join(ORT_DIST, 'ort-wasm-simd-threaded.asyncify.wasm'))
    ? `onnxruntime-web's WebAssembly files are absent (${ORT_DIST})`
    : false);

const TRAINED = join(fixturesDir, 'pipeline-wnut', 'model');

/** The trained encoder under a random classifier, saved (with its tokenizer) as a model folder. */
function sharpenedModelDir(dir: string): string {
  const { model } = loadModelFromDir(TRAINED);
  const rng = Rng.fromSeed(13);
  for (const [name, t] of model.parameters()) {
    const f = t.f as Float32Array;
    if (name === 'classifier.bias') f.fill(0);
    else if (name === 'classifier.weight') for (let i = 0; i < f.length; i++) f[i] = 1.5 * rng.normal();
  }
  savePretrained(model, dir, WordPieceTokenizer.fromPretrainedDir(TRAINED));
  return dir;
}
const TEXTS = (JSON.parse(readFileSync(join(fixturesDir, 'pipeline-wnut', 'expected.json'), 'utf8')) as { texts: string[] }).texts
  .slice(0, 12)
  .concat(['Zoë flew from São Paulo to New York with @jack on Friday 😀 .']);

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Serves `/page.html`, and the files of each mounted folder under its prefix; anything else is 404. */
function staticServer(mounts: Record<string, string>, page: string) {
  const served: string[] = [],
    missing: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    served.push(path);
    if (path === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
      return;
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) break;
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
      return;
    }
    missing.push(path);
    res.writeHead(404).end();
  });
  return { server, served, missing };
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>transformers.js</title><link rel="icon" href="data:,"><script type="module">
import { env, pipeline } from '/tjs/transformers.js';
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/models/';
env.useBrowserCache = false;
env.backends.onnx.wasm.wasmPaths = { mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs', wasm: '/ort/ort-wasm-simd-threaded.asyncify.wasm' };
env.backends.onnx.wasm.numThreads = 1;
window.runNer = async (texts) => {
  const ner = await pipeline('token-classification', 'exported');
  const out = [];
  for (const t of texts) out.push(await ner(t, { ignore_labels: [] }));
  return out;
};
window.ready = true;
</script>`;

interface TjsToken {
  entity: string;
  score: number;
  index: number;
  word: string;
}

test('the exported folder runs in transformers.js in headless Chromium and tags as tokentune does', {
  skip,
  timeout: 120_000,
}, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tt-onnx-browser-'));
  const source = sharpenedModelDir(join(tmp, 'source'));
  const out = join(tmp, 'exported');
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  assert.equal(await runExport(['--model', source, '--onnx', out], { stdout: sink, stderr: sink }), 0);
  const { server, served, missing } = staticServer({ '/tjs/': TJS_DIST, '/ort/': ORT_DIST, '/models/exported/': out }, PAGE);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e: Error) => problems.push(`page error: ${e.message}`));
    page.on('console', (m: { type(): string; text(): string }) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r: { url(): string }) => {
      if (!/^(http:\/\/127\.0\.0\.1:\d+\/|blob:|data:)/.test(r.url())) problems.push(`external request: ${r.url()}`);
    });
    await page.goto(`${base}/page.html`);
    await waitUntil(page, 'window.ready === true');
    const got = (await page.evaluate(`window.runNer(${JSON.stringify(TEXTS)})`)) as TjsToken[][];
    assert.deepEqual(problems, [], `404s: ${missing.join(', ')}`);
    assert.ok(
      served.includes('/models/exported/onnx/model.onnx'),
      `the page loaded onnx/model.onnx (requests: ${served.filter((p) => p.startsWith('/models/')).join(', ')})`,
    );
    assert.ok(!served.some((p) => p.includes('quantized')), 'and never asked for a quantized model');

    const ours = await pipeline(source);
    const tokenizer = WordPieceTokenizer.fromPretrainedDir(source);
    let tokens = 0;
    const labels = new Set<string>();
    for (let i = 0; i < TEXTS.length; i++) {
      // transformers.js leaves out every special token, [UNK] too; Python's pipeline (and ours) keep [UNK].
      const ids = tokenizer.encode(TEXTS[i]!).ids;
      const all = (await ours.predict(TEXTS[i]!, { aggregationStrategy: 'none', ignoreLabels: [] })) as TokenEntity[];
      const want = all.filter((e) => ids[e.index] !== tokenizer.unkId);
      const g = got[i]!;
      assert.equal(g.length, want.length, `text ${i}: ${g.length} tokens from transformers.js vs ${want.length} from tokentune`);
      want.forEach((w, k) => {
        const at = `text ${i} token ${k} (${w.word})`;
        assert.equal(g[k]!.index, w.index, `${at}: index`);
        assert.equal(g[k]!.word, w.word, `${at}: word`);
        assert.equal(g[k]!.entity, w.entity, `${at}: label`);
        assert.ok(Math.abs(g[k]!.score - w.score) <= 1e-4, `${at}: score ${g[k]!.score} vs tokentune ${w.score}`);
        tokens++;
        labels.add(w.entity);
      });
    }
    assert.ok(tokens > 200 && labels.size >= 5, `${tokens} tokens compared, labels ${[...labels].join(' ')}`);
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(tmp, { recursive: true, force: true });
  }
});
