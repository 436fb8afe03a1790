/** Turning WordPiece tokens back into text, as HF's BertTokenizerFast.decode does. */

/** transformers' `clean_up_tokenization` rules, in its order: a space before punctuation and English contractions. */
const CLEANUP: [string, string][] = [
  [' .', '.'],
  [' ?', '?'],
  [' !', '!'],
  [' ,', ','],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];
/** The Rust WordPiece decoder's `cleanup` has one rule more, after " 'm". */
const RUST_CLEANUP: [string, string][] = [...CLEANUP.slice(0, 7), [' do not', " don't"], ...CLEANUP.slice(7)];

/**
 * The Rust WordPiece decoder's `cleanup`, applied to each token (with its leading space) on its own.
 */
export function rustTokenCleanup(t: string): string {
  if (t.indexOf(' ') < 0) return t; // every rule removes or needs a space
  return RUST_CLEANUP.reduce((s, [from, to]) => s.replaceAll(from, to), t);
}

/** transformers' `clean_up_tokenization`, applied by decode() to the whole string afterwards. */
export function cleanUpTokenization(s: string): string {
  return CLEANUP.reduce((acc, [from, to]) => acc.replaceAll(from, to), s);
}

/**
 * WordPiece decoder: tokens after the first get a leading space unless they start with the
 * continuation prefix, which is dropped; each is cleaned up on its own when `cleanup`.
 */
export function joinWordPieces(tokens: readonly string[], prefix: string, cleanup: boolean): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    let t = tokens[i]!;
    if (i > 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
    out += cleanup ? rustTokenCleanup(t) : t;
  }
  return out;
}
