/** Turning WordPiece tokens back into text, as HF's BertTokenizerFast.decode does. */

/**
 * The Rust WordPiece decoder's `cleanup`, applied to each token (with its leading space) on its own.
 */
export function rustTokenCleanup(t: string): string {
  if (t.indexOf(' ') < 0) return t; // every rule removes or needs a space
  return t
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** transformers' `clean_up_tokenization`, applied by decode() to the whole string afterwards. */
export function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
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
