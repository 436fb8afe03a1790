export { WordPieceTokenizer } from './wordpiece-tokenizer.js';
export type { Tokenizer } from './tokenizer.js';
export { hasTokenizerFiles, loadTokenizer, TOKENIZER_FILES } from './load-tokenizer.js';
export { JsonTokenizer } from './tokenizer-json/json-tokenizer.js';
export type { Encoding, EncodeOptions, DecodeOptions } from './tokenizer.js';
export type { WordPieceOptions } from './wordpiece-settings.js';
export { TokenizerConfigError, TokenizerFileError } from './errors.js';
