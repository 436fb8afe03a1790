/**
 * tokenizer.json (the Hugging Face `tokenizers` format) for a BERT WordPiece tokenizer, built
 * from the settings of a saved BertTokenizer folder. transformers.js loads tokenizers only
 * from tokenizer.json, so an export for it needs this file besides vocab.txt.
 *
 * The layout is what transformers' BertConverter writes: BertNormalizer, BertPreTokenizer,
 * WordPiece model, [CLS] $A [SEP] ($B:1 [SEP]:1) template, WordPiece decoder, and every special
 * or added token in added_tokens, matched verbatim (normalized: false).
 */
import { WordPieceTokenizer } from '../../tokenizers/index.js';
import type { ResolvedSettings } from '../../tokenizers/wordpiece-settings.js';

export interface TokenizerJsonResult {
  json: Record<string, unknown>;
  /** Settings that tokenizer.json cannot express (the fast tokenizer ignores them too). */
  warnings: string[];
}

export function bertTokenizerJson(s: ResolvedSettings): TokenizerJsonResult {
  const warnings: string[] = [];
  if (s.neverSplit.length > 0) {
    warnings.push(
      `never_split (${s.neverSplit.length} tokens) has no tokenizer.json equivalent and is left out, as HF's fast tokenizer does`,
    );
  }
  // The constructor assigns ids to special tokens missing from the vocabulary (HF's rule).
  const tok = new WordPieceTokenizer(s);
  const idOf = (t: string): number => {
    const id = tok.convertTokensToIds(t);
    if (tok.convertIdsToTokens(id) !== t) throw new Error(`tokenizer.json: special token ${JSON.stringify(t)} has no id`);
    return id;
  };
  const added = new Map<number, { content: string; special: boolean }>();
  for (const t of [s.unkToken, s.sepToken, s.padToken, s.clsToken, s.maskToken, ...s.additionalSpecialTokens]) {
    added.set(idOf(t), { content: t, special: true });
  }
  for (const a of s.addedTokens) {
    const prev = added.get(a.id);
    added.set(a.id, { content: a.content, special: a.special || (prev?.special ?? false) });
  }
  const addedTokens = [...added.entries()]
    .sort(([a], [b]) => a - b)
    .map(([id, a]) => ({
      id,
      content: a.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: a.special,
    }));

  const vocab: Record<string, number> = {};
  for (const [t, id] of s.vocab.tokenToId) vocab[t] = id;
  const cls = s.clsToken,
    sep = s.sepToken;
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: s.cleanText,
      handle_chinese_chars: s.tokenizeChineseChars,
      strip_accents: s.stripAccents,
      lowercase: s.doLowerCase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(cls, 0), seq('A', 0), special(sep, 0)],
      pair: [special(cls, 0), seq('A', 0), special(sep, 0), seq('B', 1), special(sep, 1)],
      special_tokens: {
        [cls]: { id: cls, ids: [idOf(cls)], tokens: [cls] },
        [sep]: { id: sep, ids: [idOf(sep)], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: s.continuingSubwordPrefix, cleanup: s.decoderCleanup },
    model: {
      type: 'WordPiece',
      unk_token: s.unkToken,
      continuing_subword_prefix: s.continuingSubwordPrefix,
      max_input_chars_per_word: s.maxInputCharsPerWord,
      vocab,
    },
  };
  return { json, warnings };
}
