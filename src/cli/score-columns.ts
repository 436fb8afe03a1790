/**
 * `tokentune score` reads the last two columns as gold and predicted tag. A file of words and gold
 * tags only (training data, or predictions that were never added) would be scored as gold = the
 * words, prediction = the gold tags: 0.00% and exit 0. This check refuses such a file.
 */
import { parseTag } from '../data/tag-schemes.js';
import type { ConllInput } from '../metrics/index.js';

/**
 * Why the "gold" column is not a column of tags, or null. It is taken for words when most of its
 * tokens neither look like chunk tags (O, B-X, ...) nor occur anywhere in the predicted column,
 * and it has more distinct values than the predicted column (a vocabulary beside a tag set).
 * Real gold tags pass either test: NER gold is tag-shaped, POS gold shares the predicted tag set.
 */
export function goldColumnProblem(input: ConllInput, file: string): string | null {
  const predValues = new Set<string>();
  for (const s of input.pred) for (const t of s) predValues.add(t);
  const goldValues = new Set<string>();
  let tokens = 0,
    tagLike = 0,
    shared = 0;
  let first: { value: string; line: number } | null = null;
  input.gold.forEach((s, i) =>
    s.forEach((t, j) => {
      tokens++;
      goldValues.add(t);
      const isTag = parseTag(t).prefix !== null;
      if (isTag) tagLike++;
      if (predValues.has(t)) shared++;
      if (!isTag && !predValues.has(t) && first === null) first = { value: t, line: input.lines[i]![j]! };
    }),
  );
  if (tokens === 0 || tagLike * 2 >= tokens || shared * 2 >= tokens || goldValues.size <= predValues.size) return null;
  const examples = [...goldValues]
    .filter((v) => !predValues.has(v))
    .slice(0, 3)
    .map((v) => `'${v}'`)
    .join(', ');
  const at = first as { value: string; line: number } | null;
  return (
    `${file}${at ? `:${at.line}` : ''}: the last two columns must be the gold and the predicted tag, but the gold column holds words (${examples}, ...: ` +
    `${goldValues.size} different values beside ${predValues.size} in the last column): this looks like words and gold tags without predictions; ` +
    `add each token's predicted tag as a last column (WORD GOLD PRED, as conlleval reads it)`
  );
}
