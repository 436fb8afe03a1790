// Per-type counts (correct, predicted, gold) for the three ways of cutting tags into units:
// seqeval's default chunks, seqeval's strict chunks, and single tokens for flat label sets.

import { getEntities } from './entities-default.js';
import { getStrictEntities, type SchemeName } from './schemes.js';

export interface TypeCounts {
  /** Units found in both gold and prediction (true positives). */
  correct: number;
  /** Units in the prediction. */
  predicted: number;
  /** Units in the gold tags (support). */
  gold: number;
}

function tally(goldKeys: Map<string, Set<string>>, predKeys: Map<string, Set<string>>): Map<string, TypeCounts> {
  const counts = new Map<string, TypeCounts>();
  for (const [type, gold] of goldKeys) {
    counts.set(type, { correct: 0, predicted: 0, gold: gold.size });
  }
  for (const [type, pred] of predKeys) {
    const gold = goldKeys.get(type);
    let correct = 0;
    if (gold) for (const k of pred) if (gold.has(k)) correct++;
    const c = counts.get(type);
    if (c) {
      c.predicted = pred.size;
      c.correct = correct;
    } else {
      counts.set(type, { correct, predicted: pred.size, gold: 0 });
    }
  }
  return counts;
}

function addKey(map: Map<string, Set<string>>, type: string, key: string): void {
  let set = map.get(type);
  if (!set) map.set(type, (set = new Set()));
  set.add(key);
}

/** seqeval default mode: entities from get_entities, compared as sets of (type, start, end). */
export function defaultModeCounts(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  suffix: boolean,
): Map<string, TypeCounts> {
  const gold = new Map<string, Set<string>>();
  const pred = new Map<string, Set<string>>();
  for (const [type, start, end] of getEntities(yTrue, suffix)) addKey(gold, type, `${start}:${end}`);
  for (const [type, start, end] of getEntities(yPred, suffix)) addKey(pred, type, `${start}:${end}`);
  return tally(gold, pred);
}

/** seqeval strict mode: well-formed entities of `scheme`, compared per sentence. */
export function strictModeCounts(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  scheme: SchemeName,
  suffix: boolean,
): Map<string, TypeCounts> {
  const gold = new Map<string, Set<string>>();
  const pred = new Map<string, Set<string>>();
  for (const e of getStrictEntities(yTrue, scheme, { suffix, side: 'gold' })) {
    addKey(gold, e.type, `${e.sentence}:${e.start}:${e.end}`);
  }
  for (const e of getStrictEntities(yPred, scheme, { suffix, side: 'predicted' })) {
    addKey(pred, e.type, `${e.sentence}:${e.start}:${e.end}`);
  }
  return tally(gold, pred);
}

/**
 * Every token is its own unit labelled with its whole tag (conlleval's -r "raw" mode); the
 * outside label is not a class. For POS tags this makes micro precision = recall = accuracy.
 */
export function tokenLevelCounts(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  outside: string,
): Map<string, TypeCounts> {
  const counts = new Map<string, TypeCounts>();
  const get = (label: string): TypeCounts => {
    let c = counts.get(label);
    if (!c) counts.set(label, (c = { correct: 0, predicted: 0, gold: 0 }));
    return c;
  };
  for (let s = 0; s < yTrue.length; s++) {
    const gold = yTrue[s]!;
    const pred = yPred[s]!;
    for (let i = 0; i < gold.length; i++) {
      const g = gold[i]!;
      const p = pred[i]!;
      if (g !== outside) get(g).gold++;
      if (p !== outside) get(p).predicted++;
      if (g === p && g !== outside) get(g).correct++;
    }
  }
  return counts;
}
