/**
 * tokenizer.json engine throughput per tokenizer type (the committed fixture folders:
 * RoBERTa/ModernBERT byte-level BPE, XLM-R/DeBERTa-v3 Unigram, DistilBERT WordPiece) on WNUT-17
 * train + CoNLL-2003 train, against Python `tokenizers` (the Rust library) on the same sentences
 * in the same run: a per-sentence encode() loop, and encode_batch on one Rust thread
 * (RAYON_NUM_THREADS=1). Each figure is the median of 3 runs, each on a fresh tokenizer (cold caches). Python: $TOKENTUNE_HF_PYTHON; skipped if unset.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadTokenizer } from '../src/tokenizers/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TYPES = ['roberta', 'modernbert', 'xlmr', 'deberta', 'wordpiece'];

const PY = `
import json, os, sys, time
from tokenizers import Tokenizer
d, sents = sys.argv[1], json.load(open(sys.argv[2], encoding='utf-8'))
texts = [' '.join(s) for s in sents]
src = open(os.path.join(d, 'tokenizer.json'), encoding='utf-8').read()
j = json.loads(src)
def fix(p):  # transformers' add_prefix_space=True for pre-split words (as tokentune's encodeWords)
    if p is None: return
    if p['type'] in ('ByteLevel', 'RobertaProcessing'): p['add_prefix_space'] = True
    for q in (p.get('pretokenizers') or []) + (p.get('processors') or []): fix(q)
fix(j['pre_tokenizer']); fix(j['post_processor'])
out = {}
def median3(fn):
    runs = sorted(fn() for _ in range(3))
    return list(runs[1])
for mode, inputs, kw in (('encode(text)', texts, {}), ('encodeWords', sents, {'is_pretokenized': True})):
    fresh = lambda: Tokenizer.from_str(src if mode == 'encode(text)' else json.dumps(j))  # cold cache, as ours
    def loop():
        tok = fresh(); t0 = time.perf_counter(); n = sum(len(tok.encode(x, **kw).ids) for x in inputs); return (time.perf_counter() - t0, n)
    def batch():
        tok = fresh(); t0 = time.perf_counter(); n = sum(len(e.ids) for e in tok.encode_batch(inputs, **kw)); return (time.perf_counter() - t0, n)
    out[mode + ' loop'] = median3(loop)
    out[mode + ' batch'] = median3(batch)
print(json.dumps(out))
`;
import { findHfPython } from '../tools/hf-python.mjs';

export function runTokenizerJsonBench(sentences: string[][]): void {
  const { python, missing } = findHfPython();
  const havePy = missing === undefined;
  if (!havePy) console.log(`Python tokenizers reference skipped: ${missing}`);
  const work = mkdtempSync(join(tmpdir(), 'tt-tokbench-'));
  try {
    const sentPath = join(work, 'sentences.json');
    writeFileSync(sentPath, JSON.stringify(sentences));
    const texts = sentences.map((s) => s.join(' '));
    console.log(`tokenizer.json engine, ${sentences.length} sentences; tokens/s incl. specials (ratio = ours / Rust)`);
    for (const type of TYPES) {
      const doc = JSON.parse(
        gunzipSync(readFileSync(join(repoRoot, 'test', 'fixtures', 'tokenizers', `${type}.json.gz`))).toString('utf8'),
      ) as { files: Record<string, string> };
      const dir = join(work, type);
      spawnSync('mkdir', ['-p', dir]);
      for (const [name, text] of Object.entries(doc.files)) writeFileSync(join(dir, name), text);
      const ours: Record<string, [number, number]> = {};
      for (const [mode, run] of [
        ['encode(text)', (t: ReturnType<typeof loadTokenizer>) => texts.reduce((n, s) => n + t.encode(s).ids.length, 0)],
        ['encodeWords', (t: ReturnType<typeof loadTokenizer>) => sentences.reduce((n, s) => n + t.encodeWords(s).ids.length, 0)],
      ] as const) {
        const runs: [number, number][] = [];
        for (let r = 0; r < 3; r++) {
          const tok = loadTokenizer(dir); // cold: empty caches, as a fresh Python tokenizer
          const t0 = process.hrtime.bigint();
          const n = run(tok);
          runs.push([Number(process.hrtime.bigint() - t0) / 1e9, n]);
        }
        ours[mode] = runs.sort((a, b) => a[0] - b[0])[1]!; // median of 3
      }
      let ref: Record<string, [number, number]> = {};
      if (havePy) {
        const r = spawnSync(python, ['-c', PY, dir, sentPath], {
          encoding: 'utf8',
          env: { ...process.env, RAYON_NUM_THREADS: '1', TOKENIZERS_PARALLELISM: 'true' },
          maxBuffer: 1 << 24,
        });
        if (r.status === 0) ref = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, [number, number]>;
        else console.log(`python failed: ${r.stderr.slice(-300)}`);
      }
      for (const mode of ['encode(text)', 'encodeWords']) {
        const [s, n] = ours[mode]!;
        const loop = ref[`${mode} loop`],
          batch = ref[`${mode} batch`];
        const rate = (x: [number, number]) => x[1] / x[0];
        const same = loop && loop[1] === n ? '' : loop ? ` (token counts differ: ${n} vs ${loop[1]})` : '';
        console.log(
          `${type.padEnd(11)} ${mode.padEnd(13)} ours ${Math.round(n / s).toLocaleString('en-US')} tokens/s` +
            (loop ? `; Rust loop ${Math.round(rate(loop)).toLocaleString('en-US')} (x${(n / s / rate(loop)).toFixed(2)})` : '') +
            (batch
              ? `; Rust encode_batch 1 thread ${Math.round(rate(batch)).toLocaleString('en-US')} (x${(n / s / rate(batch)).toFixed(2)})`
              : '') +
            same,
        );
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
