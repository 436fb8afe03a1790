// Counts differences between tokentune's pipeline and transformers' (the JSON written by
// scripts/parity/hf-pipeline-parity.py) per aggregation strategy: entity lists that differ in length,
// entities whose label / word / start / end / index differ, and scores off by more than 1e-4.
//   node scripts/parity/compare-pipeline.mjs MODEL_DIR EXPECTED.json
import { readFileSync } from 'node:fs';
import { pipeline } from '../../dist/src/infer/index.js';

const [modelDir, file] = process.argv.slice(2);
const exp = JSON.parse(readFileSync(file, 'utf8'));
const pipe = await pipeline(modelDir);
for (const [strategy, rows] of Object.entries(exp.results)) {
  let texts = 0,
    entities = 0,
    lengthDiff = 0,
    fieldDiff = 0,
    scoreDiff = 0,
    maxScore = 0;
  for (let i = 0; i < rows.length; i++) {
    const text = exp.texts[i];
    const cp = [0];
    for (const ch of text) cp.push(cp[cp.length - 1] + ch.length);
    const got = await pipe.predict(text, { aggregationStrategy: strategy, ignoreLabels: [] });
    texts++;
    entities += rows[i].length;
    if (got.length !== rows[i].length) {
      lengthDiff++;
      continue;
    }
    rows[i].forEach((w, k) => {
      const g = got[k];
      if (
        (g.entity ?? g.entity_group) !== (w.entity ?? w.entity_group) ||
        g.word !== w.word ||
        g.start !== cp[w.start] ||
        g.end !== cp[w.end] ||
        (w.index !== undefined && g.index !== w.index)
      )
        fieldDiff++;
      const d = Math.abs(g.score - w.score);
      maxScore = Math.max(maxScore, d);
      if (d > 1e-4) scoreDiff++;
    });
  }
  console.log(
    `${strategy}: ${texts} texts, ${entities} entities; texts with another entity count: ${lengthDiff}; entities with another label/word/offset: ${fieldDiff}; scores off by > 1e-4: ${scoreDiff}; max |score diff| ${maxScore.toExponential(2)}`,
  );
}
