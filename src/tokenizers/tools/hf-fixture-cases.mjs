// Inputs for test/fixtures/tokenizer-hf.json (see gen-hf-fixture.mjs). Hand-written, no corpus text.

export const FIXED_TEXTS = [
  'Hello, world!',
  'My name is Sylvain and I work at Hugging Face in Brooklyn.',
  'unaffable',
  'Café naïve Zürich',
  'CAFÉ NAÏVE ZÜRICH',
  '北京大学',
  '我爱北京天安门!',
  '😀',
  'x😀y 👍🏽 🥰 🇩🇪',
  'https://t.co/abc?x=1',
  'RT @user_1: #hashtag lol!!! http://bit.ly/xYz',
  'a'.repeat(101),
  'b'.repeat(100),
  'ab\u0000cd\u0007ef\u200bgh\ufeffij\u00adkl',
  'line1\nline2\tx\r\ny\u000bz\u000cw\u0085v',
  'Hi [MASK] there [SEP]x[CLS] [mask] [[MASK]]',
  'İstanbul ΟΔΟΣ Σ ς',
  '한국어 텍스트',
  'ﬁne ﬂow ﬀ',
  'Ω Å ℃ Ⅻ ½',
  "U.S. don't it's I'm we're they've",
  'e\u0301 cafe\u0301 n\u0303',
  '日本語のテキスト、カタカナ。',
  '\u{2B820}\u{2B920}\u{20000}',
  '$100 5% a+b=c <tag> ^_^ |x| ~y `z`',
  '“quotes” ‘single’ — dash – … ¿¡ «»',
  '\u00a0nbsp\u3000ideographic\u2028line\u2029para',
  'multiple   spaces   here ',
  '',
  ' ',
  '\u0000',
  'Москва Ёлка ДЖОН',
  'Ελληνικά ΆΈΉ',
  'عربي مرحبا',
  'हिन्दी नमस्ते',
  'ไทย',
  "Jean-Pierre O'Neill-Smith 3.14 1,000,000",
  'gooooooooooooooooooooooooooooaaaaaaal',
  '\u{1D400}\u{1D41B} \u{E0001}\u{F0000}x',
  'ᄀ각 ㄱ',
  '\u0890\u1734\u{16D68}\u037e\u0387',
  "@paulwalk It 's the view from where I 'm living for two weeks . Empire State Building = ESB . Pretty bad storm here last evening .",
];

export const FIXED_WORDS = [
  ['EU', 'rejects', 'German', 'call', 'to', 'boycott', 'British', 'lamb', '.'],
  ['John', 'Johanson', "'s", 'house'],
  ['U.S.', '', ' ', 'New York', '@user', '#tag', '😀', '[MASK]', 'ab\u0000', '\u0000'],
  [
    '@paulwalk',
    'It',
    "'s",
    'the',
    'view',
    'from',
    'where',
    'I',
    "'m",
    'living',
    'for',
    'two',
    'weeks',
    '.',
    'Empire',
    'State',
    'Building',
    '=',
    'ESB',
    '.',
  ],
  ['Café', 'ZÜRICH', '北京大学', 'x'.repeat(101), 'http://t.co/x'],
];

/** Vocabulary for the small tokenizer.json cases (uncased). */
export const TINY_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  '!',
  ',',
  '.',
  "'",
  '?',
  '@',
  '#',
  '-',
  'a',
  'b',
  'c',
  'd',
  'e',
  'h',
  'i',
  'l',
  'n',
  'o',
  'r',
  's',
  't',
  'u',
  'w',
  'y',
  '##a',
  '##b',
  '##c',
  '##d',
  '##e',
  '##h',
  '##i',
  '##l',
  '##n',
  '##o',
  '##r',
  '##s',
  '##t',
  '##u',
  '##w',
  '##y',
  'hello',
  'world',
  'un',
  '##aff',
  '##able',
  'the',
  'is',
  '北',
  '京',
  'cafe',
  '##ing',
  'hug',
  '##g',
];

function lcg(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

const PIECES = [
  'a',
  'Z',
  'É',
  'é',
  'e\u0301',
  'ß',
  'İ',
  'ﬁ',
  '한',
  '北',
  '\u{2B920}',
  '😀',
  '👍🏽',
  ' ',
  '\t',
  '\n',
  '\u00a0',
  '\u0000',
  '\u200b',
  '\ufffd',
  '.',
  ',',
  '!',
  '@',
  '#',
  '$',
  '-',
  '(',
  '[MASK]',
  '[CLS]',
  'U.S.',
  'the',
  'The',
  'Hugging',
  'running',
  'Johanson',
  "don't",
  '\u0301',
  'Ω',
  '\u212b',
  'x'.repeat(101),
  '\u{1D400}',
];

export function randomTexts(count, seed) {
  const r = lcg(seed);
  const out = [];
  for (let c = 0; c < count; c++) {
    let s = '';
    const k = 1 + r(16);
    for (let i = 0; i < k; i++) {
      const pick = r(5);
      // Mostly hand-picked pieces; also random BMP and astral code points (no lone surrogates).
      if (pick === 0) {
        const cp = r(0xfff0);
        s += cp >= 0xd800 && cp <= 0xdfff ? 'q' : String.fromCodePoint(cp);
      } else if (pick === 1) s += String.fromCodePoint(0x10000 + r(0x30000));
      else s += PIECES[r(PIECES.length)];
    }
    out.push(s);
  }
  return out;
}

export function randomWordLists(count, seed) {
  const r = lcg(seed);
  const texts = randomTexts(count * 4, seed + 1);
  const out = [];
  for (let c = 0; c < count; c++) out.push(texts.slice(c * 4, c * 4 + 1 + r(4)));
  return out;
}
