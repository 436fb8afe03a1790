import { DataFormatError, UnknownLabelError } from './errors.js';
import { OUTSIDE, parseTag, tagProblem } from './tag-schemes.js';
import type { TagCheckOptions, UnknownLabelPolicy } from './types.js';

/** Limit on repeated warnings about the same unknown label, so logs stay readable. */
const MAX_WARNINGS_PER_LABEL = 5;

/**
 * Validates tags as a reader meets them, so errors can name the exact line. Also notices files
 * that mix prefixed (`B-PER`) and unprefixed (`PER`) non-O tags, which is almost always a
 * broken file rather than a deliberate label set.
 */
export class TagChecker {
  readonly warnings: string[] = [];
  private readonly labelSet: Set<string> | null;
  private readonly policy: UnknownLabelPolicy;
  private readonly checkPrefixes: boolean;
  private readonly warnCounts = new Map<string, number>();
  private firstPrefixed: { tag: string; line: number } | null = null;
  private firstUnprefixed: { tag: string; line: number } | null = null;

  constructor(
    private readonly file: string,
    opts: TagCheckOptions,
    private readonly unit: 'line' | 'row' | 'item' = 'line',
  ) {
    this.labelSet = opts.labelSet ? new Set(opts.labelSet) : null;
    this.policy = opts.onUnknownLabel ?? 'error';
    this.checkPrefixes = opts.checkPrefixes ?? true;
  }

  /** Returns the tag to store (possibly 'O' under the map-to-O policy) or throws. */
  check(tag: string, line: number): string {
    if (tag.length === 0) throw new DataFormatError(this.file, line, 'empty tag', this.unit);
    if (this.checkPrefixes) {
      const problem = tagProblem(tag);
      if (problem) throw new DataFormatError(this.file, line, problem, this.unit);
      if (tag !== OUTSIDE) {
        if (parseTag(tag).prefix === null) this.firstUnprefixed ??= { tag, line };
        else this.firstPrefixed ??= { tag, line };
      }
    }
    if (this.labelSet && !this.labelSet.has(tag)) return this.unknown(tag, line);
    return tag;
  }

  private unknown(tag: string, line: number): string {
    const known = [...this.labelSet!].join(', ');
    if (this.policy === 'error') {
      throw new UnknownLabelError(
        this.file,
        line,
        `label ${JSON.stringify(tag)} is not in the model's label set [${known}] (set onUnknownLabel to 'warn' or 'map-to-O' to continue)`,
        this.unit,
      );
    }
    const n = (this.warnCounts.get(tag) ?? 0) + 1;
    this.warnCounts.set(tag, n);
    const action = this.policy === 'map-to-O' ? 'mapped to O' : 'kept';
    const where = this.unit === 'line' ? `${this.file}:${line}` : `${this.file}:${this.unit} ${line}`;
    if (n <= MAX_WARNINGS_PER_LABEL)
      this.warnings.push(`${where}: label ${JSON.stringify(tag)} is not in the model's label set; ${action}`);
    else if (n === MAX_WARNINGS_PER_LABEL + 1)
      this.warnings.push(
        `${this.file}: further occurrences of unknown label ${JSON.stringify(tag)} are ${action} without a warning each (see summary)`,
      );
    return this.policy === 'map-to-O' ? OUTSIDE : tag;
  }

  /** Call once after the whole file: throws on mixed tag styles and adds per-label summaries. */
  finish(): void {
    if (this.firstPrefixed && this.firstUnprefixed) {
      const later = this.firstPrefixed.line > this.firstUnprefixed.line ? this.firstPrefixed : this.firstUnprefixed;
      const earlier = later === this.firstPrefixed ? this.firstUnprefixed : this.firstPrefixed;
      throw new DataFormatError(
        this.file,
        later.line,
        `tag ${JSON.stringify(later.tag)} mixes tag styles with ${JSON.stringify(earlier.tag)} (${this.unit} ${earlier.line}): either every non-O tag has a B-/I-/E-/S-/L-/U- prefix or none has (pass checkPrefixes: false for POS-style labels)`,
        this.unit,
      );
    }
    for (const [tag, n] of this.warnCounts) {
      if (n > MAX_WARNINGS_PER_LABEL) this.warnings.push(`${this.file}: unknown label ${JSON.stringify(tag)} occurred ${n} times in total`);
    }
  }
}
