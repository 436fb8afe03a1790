// Regenerates src/tokenizers/unicode-exceptions.ts: every code point where Node's Unicode tables
// (ICU) and the tables compiled into Hugging Face's Rust `tokenizers` disagree, for each character
// class tokentune's tokenizers use. It asks Python `tokenizers` (the Rust library) about every code
// point once, compares with the plain JS property tests, and writes the differences as range lists.
// Differences no table can express fail the run. Development tool (not run by tests or CI):
//   npx tsc -p . && TOKENTUNE_HF_PYTHON=... node tools/gen-unicode-exceptions.mjs   (~2 min)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hfPython } from './hf-python.mjs';
import { ONIG_SPACE, ONIG_WORD, REGEX_CRATE_WORD, RUST_NUMERIC } from '../dist/src/tokenizers/rust-class-bases.js';

const python = hfPython();

// The Rust side, one pass per probe over all code points. Oniguruma classes are probed on one string
// of all code points (a Split that removes the matches); the rest one character at a time.
const PROBE = String.raw`
import json, sys
import tokenizers
from tokenizers import Regex, normalizers as N, pre_tokenizers as P
nf_cands, decomp_cands = json.load(sys.stdin)
cps = [cp for cp in range(0x110000) if not 0xd800 <= cp <= 0xdfff]
chars = ''.join(chr(cp) for cp in cps)
def onig(pattern):
    unmatched = set()
    for _, (a, b) in P.Split(Regex(pattern), 'removed').pre_tokenize_str(chars):
        unmatched.update(range(a, b))
    return [cp for i, cp in enumerate(cps) if i not in unmatched]
def pieces(pre):
    return [len(pre.pre_tokenize_str('a' + chr(cp) + 'a')) for cp in cps]
def changed(norm, prefix=''):
    out = {}
    for cp in cps:
        s = norm.normalize_str(prefix + chr(cp))[len(prefix):]
        if s != chr(cp): out[cp] = s
    return out
bert = lambda **o: N.BertNormalizer(**{'clean_text': False, 'handle_chinese_chars': False, 'strip_accents': False, 'lowercase': False, **o})
bert_n = pieces(P.BertPreTokenizer())
ws_n = pieces(P.Whitespace())
nfd, nfkd = N.NFD(), N.NFKD()
out = {
    'version': tokenizers.__version__,
    'onig': {k: onig(p) for k, p in [('Cn', r'\p{Cn}'), ('L', r'\p{L}'), ('N', r'\p{N}'), ('M', r'\p{M}'), ('P', r'\p{P}'),
                                     ('Alphabetic', r'\p{Alphabetic}'), ('d', r'\d'), ('s', r'\s'), ('w', r'\w')]},
    'cleanRemoved': [cp for cp in cps if bert(clean_text=True).normalize_str(chr(cp)) == ''],
    'bertPunct': [cp for cp, n in zip(cps, bert_n) if n == 3],
    'bertSpace': [cp for cp, n in zip(cps, bert_n) if n == 2],
    'bertStrip': changed(bert(strip_accents=True)),
    'lower': changed(N.Lowercase()),
    'regexWord': [cp for cp, n in zip(cps, ws_n) if n == 1],
    'regexSpace': [cp for cp, n in zip(cps, ws_n) if n == 2],
    'numeric': [cp for cp, n in zip(cps, pieces(P.Digits(individual_digits=True))) if n == 3],
    'whitespace': [cp for cp, n in zip(cps, pieces(P.WhitespaceSplit())) if n == 2],
    'mark': [cp for cp, s in changed(N.StripAccents(), 'a').items() if s == ''],
    'nfNoReorder': [cp for cp in nf_cands if nfd.normalize_str(chr(cp) + '\u0334').startswith(chr(cp))],
    'nfNoDecomp': [cp for cp in decomp_cands if nfkd.normalize_str(chr(cp)) == chr(cp)],
}
json.dump(out, sys.stdout)
`;

const all = [];
for (let cp = 0; cp < 0x110000; cp++) if (cp < 0xd800 || cp > 0xdfff) all.push(cp);
const str = (cp) => String.fromCodePoint(cp);
// NF candidates: marks ICU reorders (canonical combining class > 1), characters ICU decomposes.
const nfCands = all.filter((cp) => cp >= 0xa0 && cp !== 0x334 && (str(cp) + '\u0334').normalize('NFD').startsWith('\u0334'));
const decompCands = all.filter((cp) => cp >= 0xa0 && str(cp).normalize('NFKD') !== str(cp));
const rust = JSON.parse(
  execFileSync(python, ['-c', PROBE], { input: JSON.stringify([nfCands, decompCands]), encoding: 'utf8', maxBuffer: 1 << 28 }),
);

const problems = [];
/** Code points where Rust says yes and JS no (extra), and where JS says yes and Rust no (not). */
function diff(rustList, jsTest) {
  const r = new Set(rustList);
  const extra = [],
    not = [];
  for (const cp of all) {
    const j = jsTest(cp);
    if (r.has(cp) && !j) extra.push(cp);
    if (!r.has(cp) && j) not.push(cp);
  }
  return { extra, not };
}
const re = (cls) => {
  const x = new RegExp(`^[${cls}]$`, 'u');
  return (cp) => x.test(str(cp));
};
const expectSame = (what, d) => {
  if (d.extra.length || d.not.length) problems.push(`${what}: Rust-only ${ranges(d.extra)}; JS-only ${ranges(d.not)}`);
};

// Oniguruma: the code points it has as unassigned but ICU assigns; every probed class is then ICU's minus those.
const cn = diff(rust.onig.Cn, re('\\p{Cn}'));
expectSame('Oniguruma assigns what ICU does not', { extra: [], not: cn.not });
const onigUnassigned = new Set(cn.extra);
for (const [k, cls] of [
  ['L', '\\p{L}'],
  ['N', '\\p{N}'],
  ['M', '\\p{M}'],
  ['P', '\\p{P}'],
  ['Alphabetic', '\\p{Alphabetic}'],
  ['d', '\\p{Nd}'],
  ['s', ONIG_SPACE],
  ['w', ONIG_WORD],
]) {
  const t = re(cls);
  expectSame(
    `Oniguruma ${k}`,
    diff(rust.onig[k], (cp) => t(cp) && !onigUnassigned.has(cp)),
  );
}

// BertNormalizer / BertPreTokenizer (unicode.ts).
const asciiPunct = (cp) => (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
const other = re('\\p{Cc}\\p{Cf}\\p{Co}');
const clean = diff(rust.cleanRemoved, (cp) => cp === 0 || cp === 0xfffd || (cp !== 9 && cp !== 10 && cp !== 13 && other(cp)));
const white = re('\\p{White_Space}');
expectSame('BertPreTokenizer whitespace', diff(rust.bertSpace, white));
const punctP = re('\\p{P}');
const punct = diff(rust.bertPunct, (cp) => asciiPunct(cp) || punctP(cp));
const mn = re('\\p{Mn}');
const mnExtra = [],
  mnNot = [],
  nfdKeep = [];
for (const cp of all) {
  const ch = str(cp),
    s = rust.bertStrip[cp] ?? ch,
    nfd = ch.normalize('NFD');
  if (nfd === ch) {
    const rustMn = s === '';
    if (rustMn && !mn(cp)) mnExtra.push(cp);
    if (!rustMn && mn(cp)) mnNot.push(cp);
    if (!rustMn && s !== ch) problems.push(`Rust decomposes ${cp.toString(16)} but JS does not`);
  } else if (s === ch) {
    nfdKeep.push(cp); // too new for Rust's NFD table, so not Mn for it either
    if (mn(cp)) mnNot.push(cp);
  }
}
for (const cp of all) {
  let jl = '';
  for (const x of str(cp)) jl += x.toLowerCase();
  if ((rust.lower[cp] ?? str(cp)) !== jl) problems.push(`lowercase differs at ${cp.toString(16)}`);
}

// The other pre-tokenizers and normalizers of the tokenizer.json engine.
const regexWord = diff(rust.regexWord, re(REGEX_CRATE_WORD));
expectSame('regex crate \\s (Whitespace)', diff(rust.regexSpace, white));
expectSame('char::is_numeric (Digits)', diff(rust.numeric, re(RUST_NUMERIC)));
expectSame('char::is_whitespace (WhitespaceSplit, Strip)', diff(rust.whitespace, white));
const mark = diff(rust.mark, re('\\p{M}'));
if (problems.length) throw new Error('differences these tables cannot express:\n' + problems.join('\n'));

function ranges(list) {
  const parts = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(i === j ? list[i].toString(16) : `${list[i].toString(16)}-${list[j].toString(16)}`);
    i = j + 1;
  }
  return parts.join(',');
}
const set = (doc, name, list) => [
  `/** ${doc} ${list.length} code points. */`,
  `export const ${name}: ReadonlySet<number> = parseRanges('${ranges(list)}');`,
];
const lines = [
  '// GENERATED by tools/gen-unicode-exceptions.mjs: do not edit by hand.',
  `// Probed: Python tokenizers ${rust.version} (Rust) vs Node ${process.version} (ICU ${process.versions.icu}, Unicode ${process.versions.unicode}).`,
  '// The Rust crates use older Unicode tables; these are the code points where the two disagree.',
  "import { parseRanges } from './ranges.js';",
  '',
  '/** Where these lists came from; with another Node Unicode version, characters newer than both may differ. */',
  `export const PROBED_WITH = { tokenizers: '${rust.version}', node: '${process.version}', unicode: '${process.versions.unicode}' } as const;`,
  '',
  '// BertNormalizer / BertPreTokenizer (and the Punctuation pre-tokenizer, which uses the same test).',
  ...set('JS says Cc/Cf/Co, Rust clean_text keeps the character.', 'CLEAN_KEEP_OTHER', clean.not),
  ...set('Rust clean_text removes the character although JS does not call it Cc/Cf/Co.', 'CLEAN_REMOVE_EXTRA', clean.extra),
  ...set('JS says P*, Rust does not split there.', 'PUNCT_NOT_PUNCT', punct.not),
  ...set('Rust splits there as punctuation, JS does not say P*.', 'PUNCT_EXTRA', punct.extra),
  ...set('JS says Mn, Rust keeps it when stripping accents.', 'MN_NOT_MN', mnNot),
  ...set('Rust strips it as Mn, JS does not say Mn.', 'MN_EXTRA', mnExtra),
  ...set('JS NFD decomposes it, Rust NFD leaves it whole.', 'NFD_KEEP', nfdKeep),
  '',
  '// NFC/NFD/NFKC/NFKD (the unicode-normalization-alignments crate).',
  ...set(
    'Marks ICU reorders (canonical combining class > 1) that Rust treats as unassigned: starters that neither compose nor decompose.',
    'NF_UNASSIGNED_IN_RUST',
    rust.nfNoReorder,
  ),
  ...set('Characters ICU decomposes (NFD/NFKD) that Rust leaves as they are.', 'NF_NO_DECOMPOSITION_IN_RUST', rust.nfNoDecomp),
  '',
  '// Regexes: Oniguruma (Split, Replace, ByteLevel) and the regex crate (Whitespace).',
  `/** Assigned for ICU, unassigned for Oniguruma: in none of its \\p{..}, \\w, \\d classes (checked for L, N, M, P, Alphabetic, \\d, \\s, \\w). ${onigUnassigned.size} code points. */`,
  `export const ONIG_UNASSIGNED = '${ranges(cn.extra)}';`,
  `/** In REGEX_CRATE_WORD for ICU, not \\w for the regex crate. ${regexWord.not.length} code points. */`,
  `export const REGEX_WORD_NOT = '${ranges(regexWord.not)}';`,
  `/** \\w for the regex crate, not in REGEX_CRATE_WORD for ICU. ${regexWord.extra.length} code points. */`,
  `export const REGEX_WORD_EXTRA = '${ranges(regexWord.extra)}';`,
  '',
  '// StripAccents (is_combining_mark of unicode-normalization-alignments).',
  ...set('JS says M*, StripAccents keeps it.', 'MARK_NOT_MARK', mark.not),
  ...set('StripAccents removes it, JS does not say M*.', 'MARK_EXTRA', mark.extra),
  '',
];
writeFileSync(new URL('../src/tokenizers/unicode-exceptions.ts', import.meta.url), lines.join('\n'));
console.log(
  `tokenizers ${rust.version}: Oniguruma unassigned ${onigUnassigned.size}, regex-crate word -${regexWord.not.length}/+${regexWord.extra.length}, ` +
    `marks -${mark.not.length}/+${mark.extra.length}, NF ${rust.nfNoReorder.length}+${rust.nfNoDecomp.length}, BERT clean -${clean.not.length}/+${clean.extra.length} ` +
    `punct -${punct.not.length}/+${punct.extra.length} Mn -${mnNot.length}/+${mnExtra.length} NFD ${nfdKeep.length}`,
);
