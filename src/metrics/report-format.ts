// Text and JSON renderings of a ClassificationReport: seqeval's StringReporter layout and
// seqeval's output_dict shape.

import { codePointLength, formatFixed, padLeftCodePoints } from './format-number.js';
import type { ClassificationReport, ScoreRow } from './scores.js';

const AVERAGES = ['micro avg', 'macro avg', 'weighted avg'] as const;
const HEADERS = ['precision', 'recall', 'f1-score', 'support'];

/**
 * seqeval's classification_report text (seqeval/reporters.py StringReporter): names right-aligned
 * to the longest name (at least 'weighted avg'), numbers in 9-wide columns, a blank line after
 * the header, after the types and at the end.
 */
export function formatClassificationReport(report: ClassificationReport, digits = 4): string {
  const nameWidth = report.labels.reduce((w, l) => Math.max(w, codePointLength(l)), 0);
  const width = Math.max(nameWidth, 'weighted avg'.length, digits);
  const row = (name: string, r: ScoreRow): string =>
    `${padLeftCodePoints(name, width)} ` +
    [r.precision, r.recall, r.f1].map((v) => ` ${padLeftCodePoints(formatFixed(v, digits), 9)}`).join('') +
    ` ${padLeftCodePoints(String(r.support), 9)}`;
  const header = `${' '.repeat(width)} ${HEADERS.map((h) => ` ${padLeftCodePoints(h, 9)}`).join('')}\n\n`;
  const lines = report.labels.map((l) => row(l, report.perType[l]!));
  lines.push('');
  for (const a of AVERAGES) lines.push(row(a, report[a]));
  lines.push('');
  return header + lines.join('\n');
}

export interface ReportDictRow {
  precision: number;
  recall: number;
  'f1-score': number;
  support: number;
}

/** seqeval's classification_report(..., output_dict=True) shape: types, then the three averages. */
export function reportToDict(report: ClassificationReport): Record<string, ReportDictRow> {
  const entries: Array<[string, ReportDictRow]> = [];
  const toRow = (r: ScoreRow): ReportDictRow => ({
    precision: r.precision,
    recall: r.recall,
    'f1-score': r.f1,
    support: r.support,
  });
  for (const l of report.labels) entries.push([l, toRow(report.perType[l]!)]);
  for (const a of AVERAGES) entries.push([a, toRow(report[a])]);
  return Object.fromEntries(entries);
}

/** JSON text of reportToDict (NaN, which only a macro average over no types can be, becomes null). */
export function formatReportJson(report: ClassificationReport): string {
  return `${JSON.stringify(reportToDict(report), null, 2)}\n`;
}
