// Compares tokentune's loadTokenizer against expected outputs written by make-tokenizer-fixtures.py.
// Usage: node scripts/parity/tokenizer-parity-check.mjs FILE.json.gz... (after `npm run build`)
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer } from '../../dist/src/tokenizers/load-tokenizer.js';

let bad = 0;
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  for (const [name, text] of Object.entries(doc.files)) if (!name.endsWith('.b64')) writeFileSync(join(dir, name), text);
  const tok = loadTokenizer(dir);
  const counts = { raw: 0, rawBad: 0, split: 0, splitBad: 0, dec: 0, decBad: 0 };
  const isWordPiece = tok.constructor.name === 'WordPieceTokenizer'; // its decode follows transformers, not Rust's decoder
  const shown = [];
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  for (const c of doc.raw) {
    counts.raw++;
    const e = tok.encode(c.t);
    const off = e.offsets.flat();
    if (!same(e.ids, c.ids) || !same(off, c.off)) {
      counts.rawBad++;
      if (shown.length < 4) shown.push({ kind: 'raw', text: c.t, want: c.ids, got: e.ids, wantOff: c.off, gotOff: off, toks: e.tokens });
    }
  }
  for (const c of doc.raw) {
    if (c.dec === undefined || isWordPiece) continue;
    counts.dec++;
    if (tok.decode(c.ids) !== c.dec || tok.decode(c.ids, { skipSpecialTokens: true }) !== c.decs) {
      counts.decBad++;
      if (shown.length < 6) shown.push({ kind: 'decode', ids: c.ids, want: c.dec, got: tok.decode(c.ids) });
    }
  }
  for (const c of doc.split) {
    counts.split++;
    const e = tok.encodeWords(c.w);
    const off = e.offsets.flat();
    if (!same(e.ids, c.ids) || !same(off, c.off) || !same(e.wordIds, c.wid)) {
      counts.splitBad++;
      if (shown.length < 8)
        shown.push({ kind: 'split', words: c.w, want: c.ids, got: e.ids, wantOff: c.off, gotOff: off, wantW: c.wid, gotW: e.wordIds });
    }
  }
  rmSync(dir, { recursive: true });
  // A SentencePiece model shipped alongside (--big runs): the same cases from the legacy file alone.
  for (const [name, b64] of Object.entries(doc.files)) {
    if (!name.endsWith('.b64')) continue;
    const ldir = mkdtempSync(join(tmpdir(), 'tok-legacy-'));
    writeFileSync(join(ldir, name.slice(0, -4)), Buffer.from(b64, 'base64'));
    if (doc.files['tokenizer_config.json']) writeFileSync(join(ldir, 'tokenizer_config.json'), doc.files['tokenizer_config.json']);
    const legacy = loadTokenizer(ldir);
    let n = 0,
      nbad = 0;
    for (const c of doc.raw) {
      n++;
      const e = legacy.encode(c.t);
      if (!same(e.ids, c.ids) || !same(e.offsets.flat(), c.off)) nbad++;
    }
    for (const c of doc.split) {
      n++;
      const e = legacy.encodeWords(c.w);
      if (!same(e.ids, c.ids) || !same(e.offsets.flat(), c.off) || !same(e.wordIds, c.wid)) nbad++;
    }
    rmSync(ldir, { recursive: true });
    bad += nbad;
    console.log(`${doc.type} from legacy ${name.slice(0, -4)} only: ${n - nbad}/${n} identical`);
  }
  bad += counts.rawBad + counts.splitBad + counts.decBad;
  console.log(
    `${doc.type}: raw ${counts.raw - counts.rawBad}/${counts.raw} identical, split ${counts.split - counts.splitBad}/${counts.split} identical` +
      (counts.dec ? `, decode ${counts.dec - counts.decBad}/${counts.dec} identical` : ''),
  );
  for (const s of shown) console.log(JSON.stringify(s));
}
process.exitCode = bad === 0 ? 0 : 1;
