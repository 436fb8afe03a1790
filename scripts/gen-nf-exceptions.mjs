// Regenerates src/tokenizers/hf/nf-exceptions.ts: marks ICU reorders (canonical combining class > 1)
// that Rust `tokenizers`' NFD leaves in place (older Unicode tables). Needs Python tokenizers:
//   node scripts/gen-nf-exceptions.mjs [/path/to/python]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const python = process.argv[2] ?? process.env.TOKENTUNE_HF_PYTHON ?? '/tmp/hfenv/bin/python';
const cands = [];
for (let cp = 0xa0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  if (cp !== 0x334 && (c + '\u0334').normalize('NFD').startsWith('\u0334')) cands.push(cp);
}
// Characters ICU decomposes (NFKD) that Rust leaves alone (newer than its tables).
const decomp = [];
for (let cp = 0xa0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  if (c.normalize('NFKD') !== c) decomp.push(cp);
}
const py = `import json, sys
from tokenizers import normalizers
nfd, nfkd = normalizers.NFD(), normalizers.NFKD()
a, b = json.load(sys.stdin)
print(json.dumps([[cp for cp in a if nfd.normalize_str(chr(cp) + '\\u0334').startswith(chr(cp))],
                  [cp for cp in b if nfkd.normalize_str(chr(cp)) == chr(cp)]]))`;
const [exc, noDecomp] = JSON.parse(execFileSync(python, ['-c', py], { input: JSON.stringify([cands, decomp]), encoding: 'utf8', maxBuffer: 1 << 26 }));
const ranges = (list) => {
  const parts = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(i === j ? list[i].toString(16) : `${list[i].toString(16)}-${list[j].toString(16)}`);
    i = j + 1;
  }
  return parts.join(',');
};
writeFileSync(new URL('../src/tokenizers/hf/nf-exceptions.ts', import.meta.url), `/**
 * Combining marks that Node's ICU gives a non-zero canonical combining class but the Rust
 * unicode-normalization-alignments crate (older Unicode tables) treats as unassigned: no
 * reordering around them (we treat them as starters that neither compose nor decompose). Generated
 * by scripts/gen-nf-exceptions.mjs, probing Python tokenizers (NFD of the mark followed by U+0334)
 * for every mark ICU reorders. ${exc.length} code points.
 */
export const NF_UNASSIGNED_IN_RUST = '${ranges(exc)}';

/** Characters ICU decomposes (NFD/NFKD) that the Rust crate leaves as they are. ${noDecomp.length} code points. */
export const NF_NO_DECOMPOSITION_IN_RUST = '${ranges(noDecomp)}';
`);
console.log(`${cands.length} candidates, ${exc.length} reordering exceptions; ${decomp.length} decomposable, ${noDecomp.length} not in Rust`);
