/**
 * `tokentune export --onnx` for models whose tokenizer is a byte-level BPE or Unigram
 * tokenizer.json (RoBERTa, XLM-R) or only a SentencePiece model: the exported folder holds the
 * tokenizer.json and tokenizer_config.json transformers.js reads, and they give the ids Python
 * `tokenizers` gave (test/fixtures/tokenizers, scripts/fixtures/make-tokenizer-fixtures.py). The models are
 * the tiny encoder fixtures; their 100-row embeddings do not matter here (only files are checked).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runExport } from '../src/cli/export.js';
import { fixturesDir } from './helpers/fixtures.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { optionalImport } from './helpers/optional-import.js';

interface Fixture {
  files: Record<string, string>;
  raw: { t: string; ids: number[] }[];
}
const fixture = (name: string) =>
  JSON.parse(gunzipSync(readFileSync(join(fixturesDir, 'tokenizers', `${name}.json.gz`))).toString('utf8')) as Fixture;

// Not a package.json dependency (npm test installs it: scripts/test-deps.mjs); a name in a variable keeps tsc from needing its types.
const transformers = await optionalImport('@huggingface/transformers');

const tmp = mkdtempSync(join(tmpdir(), 'tt-onnx-tok-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

// [tokenizer fixture, model fixture, legacy file to keep instead of tokenizer.json]
const CASES = [
  ['roberta', 'roberta-tiny', null],
  ['xlmr', 'xlm-roberta-tiny', null],
  ['xlmr-legacy', 'xlm-roberta-tiny', 'sentencepiece.bpe.model'],
] as const;

for (const [tok, modelName, legacy] of CASES) {
  test(`export --onnx with a ${legacy ?? 'tokenizer.json'} (${tok}) writes tokenizer.json + tokenizer_config.json that give Python's ids`, async () => {
    const f = fixture(tok);
    const src = join(tmp, `${tok}-model`);
    mkdirSync(src, { recursive: true });
    for (const w of ['config.json', 'model.safetensors', 'pytorch_model.bin']) {
      if (existsSync(join(fixturesDir, modelName, w))) copyFileSync(join(fixturesDir, modelName, w), join(src, w));
    }
    if (legacy) {
      writeFileSync(join(src, legacy), Buffer.from(f.files[`${legacy}.b64`]!, 'base64'));
      writeFileSync(join(src, 'tokenizer_config.json'), f.files['tokenizer_config.json']!);
    } else {
      for (const [name, text] of Object.entries(f.files)) writeFileSync(join(src, name), text);
    }
    const out = join(tmp, `${tok}-onnx`);
    let said = '';
    const code = await runExport(['--model', src, '--onnx', out], {
      stdout: { write: (s: string) => ((said += s), true) } as unknown as NodeJS.WritableStream,
      stderr: quiet,
    });
    assert.equal(code, 0);
    for (const file of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      assert.ok(existsSync(join(out, file)), `${file} missing`);
      assert.match(said, new RegExp(`\\s${file.replace('.', '\\.')}`));
    }
    assert.ok(!existsSync(join(out, 'vocab.txt')), 'no WordPiece vocab.txt for this tokenizer');
    const cfg = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.ok(typeof cfg['model_max_length'] === 'number' && cfg['model_max_length'] <= 40, `model_max_length ${cfg['model_max_length']}`);

    // The exported tokenizer.json alone (as transformers.js reads it) gives Python's ids.
    const only = join(tmp, `${tok}-json-only`);
    mkdirSync(only, { recursive: true });
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(out, file), join(only, file));
    const again = loadTokenizer(only);
    for (const c of f.raw) assert.deepEqual(again.encode(c.t).ids, c.ids, JSON.stringify(c.t));

    if (transformers) {
      const { AutoTokenizer, env } = transformers;
      env.allowRemoteModels = false;
      env.localModelPath = tmp + '/';
      const theirs = await AutoTokenizer.from_pretrained(`${tok}-onnx`);
      // The sentences (random strings test the Rust engine's corner cases, not transformers.js'),
      // NFKC-stable ones: transformers.js runs a Precompiled charsmap as plain NFKC.
      const sentences = f.raw
        .filter((c) => /^[\p{L}\p{N}\p{P}\p{Zs}\p{Sc}\p{So}]+$/u.test(c.t) && !/[<[]/.test(c.t) && c.t.normalize('NFKC') === c.t)
        .slice(0, 30);
      assert.ok(sentences.length >= 20);
      for (const c of sentences)
        assert.deepEqual(Array.from(theirs.encode(c.t) as number[]), c.ids, `transformers.js: ${JSON.stringify(c.t)}`);
    }
  });
}
