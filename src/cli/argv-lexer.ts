// The CLI's one argv lexer: flags (`--name`, `--name=value`, `-x`) and positionals, each flag's
// value taken from the next token as its caller says. parseArgs (args.ts) and the training flags
// (training-flags.ts) both read argv through it.

/** Splits `--name=value` / `--name` / `-x`; returns null for a token that is not a flag. */
export function splitFlag(token: string): { name: string; value: string | undefined; short: boolean } | null {
  if (token === '--' || token === '-' || !token.startsWith('-')) return null;
  // A negative number is a value, not a flag.
  if (/^-\d/.test(token) || /^-\.\d/.test(token)) return null;
  const short = !token.startsWith('--');
  const body = token.slice(short ? 1 : 2);
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, value: undefined, short } : { name: body.slice(0, eq), value: body.slice(eq + 1), short };
}

// HF's string_to_bool vocabulary.
const HF_TRUE_WORDS = ['yes', 'true', 't', 'y', '1'];
const HF_FALSE_WORDS = ['no', 'false', 'f', 'n', '0'];

/** HF's string_to_bool: true or false for its words (any case, spaces trimmed), else null. */
export function hfBoolWord(word: string): boolean | null {
  const w = word.trim().toLowerCase();
  if (HF_TRUE_WORDS.includes(w)) return true;
  if (HF_FALSE_WORDS.includes(w)) return false;
  return null;
}

/**
 * How a flag given without `=value` takes its value from the next token: 'none'; 'bool-word',
 * the next token when it is one of HF's boolean words (`--do_train true`, as HF's argparse);
 * 'optional', the next token unless it is a flag (or the caller refuses it); 'required', always.
 */
export type FlagArity = 'none' | 'bool-word' | 'optional' | 'required';

export type LexedToken =
  | { kind: 'flag'; token: string; name: string; value: string | undefined; short: boolean }
  | { kind: 'positional'; token: string };

/**
 * The CLI's argv lexer: yields flags (name and `=value` split off) and positionals in order; the
 * caller resolves each flag and asks for its value with takeValue(). With `shortFlags` (parseArgs):
 * `-x` is a short flag, a negative number a value, and `--` makes the rest positionals. Without
 * (the training flags): only `--name` tokens are flags.
 */
export class ArgvLexer {
  private i = 0;
  private ended = false;

  constructor(
    private readonly argv: readonly string[],
    private readonly shortFlags: boolean,
  ) {}

  next(): LexedToken | null {
    if (this.i >= this.argv.length) return null;
    const token = this.argv[this.i++]!;
    if (this.ended) return { kind: 'positional', token };
    if (!this.shortFlags) {
      if (!token.startsWith('--')) return { kind: 'positional', token };
      const eq = token.indexOf('=');
      return {
        kind: 'flag',
        token,
        name: eq < 0 ? token.slice(2) : token.slice(2, eq),
        value: eq < 0 ? undefined : token.slice(eq + 1),
        short: false,
      };
    }
    if (token === '--') {
      this.ended = true;
      return this.next();
    }
    const parts = splitFlag(token);
    return parts ? { kind: 'flag', token, ...parts } : { kind: 'positional', token };
  }

  /** The value of the flag next() just returned (when it had no `=value`); undefined when it takes none. */
  takeValue(arity: 'required', missing: () => Error): string;
  takeValue(arity: FlagArity, missing: () => Error, optionalAccepts?: (token: string) => boolean): string | undefined;
  takeValue(arity: FlagArity, missing: () => Error, optionalAccepts?: (token: string) => boolean): string | undefined {
    const next = this.argv[this.i];
    switch (arity) {
      case 'none':
        return undefined;
      case 'bool-word':
        return next !== undefined && next === next.trim() && hfBoolWord(next) !== null ? this.argv[this.i++] : undefined;
      case 'optional':
        return next !== undefined && !this.isFlag(next) && (optionalAccepts?.(next) ?? true) ? this.argv[this.i++] : undefined;
      case 'required':
        if (next === undefined) throw missing();
        this.i++;
        return next;
    }
  }

  private isFlag(token: string): boolean {
    return this.shortFlags ? splitFlag(token) !== null || token === '--' : token.startsWith('--');
  }
}
