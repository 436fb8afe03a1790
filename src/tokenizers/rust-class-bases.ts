/**
 * Character classes as the Rust crates behind `tokenizers` define them, written with Node's
 * Unicode properties, before the exception tables of unicode-exceptions.ts are applied. Shared by
 * the engine and tools/gen-unicode-exceptions.mjs, which checks them against the Rust library.
 */

/** Oniguruma's \s (Split / Replace / ByteLevel regexes). */
export const ONIG_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Oniguruma's \w: Unicode word characters plus the Latin-1 superscripts and fractions (its ISO-8859-1 ctype table), without Join_Control. */
export const ONIG_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\xb2\\xb3\\xb9\\xbc-\\xbe';
/** The regex crate's \w (the Whitespace pre-tokenizer): UTS #18 word characters. */
export const REGEX_CRATE_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
/** Rust's char::is_numeric (the Digits pre-tokenizer). */
export const RUST_NUMERIC = '\\p{Nd}\\p{Nl}\\p{No}';
