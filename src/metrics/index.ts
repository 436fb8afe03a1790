// Public surface of the metrics layer: seqeval-exact entity metrics, token-level metrics for
// flat label sets, conlleval's counts and report. Pure functions; no I/O.

export { MetricsInputError, ConllFormatError } from './errors.js';
export { formatFixed } from './format-number.js';
export { getEntities, splitDefaultTag, endOfChunk, startOfChunk, type DefaultEntity } from './entities-default.js';
export {
  SCHEMES,
  isSchemeName,
  getStrictEntities,
  strictSentenceEntities,
  autoDetectScheme,
  type SchemeName,
  type StrictEntity,
} from './schemes.js';
export { detectLevel, hasSchemePrefix, type Level } from './tags.js';
export { defaultModeCounts, strictModeCounts, tokenLevelCounts, type TypeCounts } from './counts.js';
export {
  classificationReport,
  reportFromCounts,
  precisionScore,
  recallScore,
  f1Score,
  accuracyScore,
  computeNerMetrics,
  type Average,
  type ClassificationReport,
  type MetricsOptions,
  type NerMetrics,
  type ScoreOptions,
  type ScoreRow,
  type ZeroDivision,
} from './scores.js';
export { formatClassificationReport, reportToDict, formatReportJson, type ReportDictRow } from './report-format.js';
export {
  conllevalCount,
  conllevalCountsFromTypeCounts,
  conllevalOverall,
  conllevalPerType,
  conllevalToJson,
  formatConllevalReport,
  splitConllevalTag,
  type ConllevalCounts,
  type ConllevalOptions,
  type ConllevalRow,
  type ConllevalScores,
  type ConllevalTypeCounts,
} from './conlleval.js';
export {
  parseConllevalText,
  toConllevalRows,
  CONLLEVAL_BOUNDARY,
  DOCSTART,
  type ConllInput,
  type ConllInputOptions,
  type ConllInputRow,
} from './conll-input.js';
