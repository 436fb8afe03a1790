// Metrics as HF's Trainer.log_metrics prints them: the table shown after evaluation by the
// Trainer's progress display and by the train, distill and evaluate commands.

function formatNumber(key: string, v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (key.endsWith('_runtime')) {
    // HF prints runtimes as h:mm:ss.ff
    const h = Math.floor(v / 3600);
    const m = Math.floor((v % 3600) / 60);
    const s = v - h * 3600 - m * 60;
    return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(2).padStart(5, '0')}`;
  }
  if (key === 'total_flos') return `${Math.round(v / 1e9)}GF`;
  return String(Math.round(v * 10000) / 10000);
}

const ENTITY_FIELDS = ['precision', 'recall', 'f1', 'number'] as const;

/**
 * Metrics as HF's Trainer.log_metrics prints them (`***** eval metrics *****`, sorted keys,
 * aligned `key = value`), with seqeval's per-type entries (`eval_LOC_precision`, ...) gathered
 * into one small table below instead of four lines per type.
 */
export function formatMetricsTable(record: Readonly<Record<string, unknown>>, title?: string): string {
  const prefix = Object.keys(record).some((k) => k.startsWith('eval_'))
    ? 'eval_'
    : Object.keys(record).some((k) => k.startsWith('test_'))
      ? 'test_'
      : '';
  const heading = title ?? (prefix === 'eval_' ? 'eval' : prefix === 'test_' ? 'test' : 'train');
  const types = new Map<string, { values: Partial<Record<(typeof ENTITY_FIELDS)[number], number>>; keys: string[] }>();
  const scalars: [string, string][] = [];
  for (const key of Object.keys(record)) {
    const v = record[key];
    // HF's metrics dicts carry no step; a log record's step is in the heading's context anyway.
    if (v === undefined || key === 'step') continue;
    const m = /^(eval_|test_|predict_)(.+)_(precision|recall|f1|number)$/.exec(key);
    if (m && m[2] !== 'overall' && typeof v === 'number') {
      const row = types.get(m[2]!) ?? { values: {}, keys: [] };
      row.values[m[3] as (typeof ENTITY_FIELDS)[number]] = v;
      row.keys.push(key);
      types.set(m[2]!, row);
      continue;
    }
    scalars.push([key, typeof v === 'number' ? formatNumber(key, v) : String(v)]);
  }
  // A lone "<x>_f1" without its siblings is a scalar, not an entity type.
  for (const [t, row] of [...types]) {
    if (row.keys.length < 2) {
      types.delete(t);
      for (const k of row.keys) scalars.push([k, formatNumber(k, record[k] as number)]);
    }
  }
  scalars.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const kw = Math.max(0, ...scalars.map(([k]) => k.length));
  const vw = Math.max(0, ...scalars.map(([, v]) => v.length));
  const lines = [`***** ${heading} metrics *****`, ...scalars.map(([k, v]) => `  ${k.padEnd(kw)} = ${v.padStart(vw)}`)];
  if (types.size > 0) {
    const names = [...types.keys()].sort();
    const tw = Math.max(4, ...names.map((n) => n.length));
    lines.push('', `  ${'type'.padEnd(tw)}  precision     recall         f1     number`);
    for (const n of names) {
      const r = types.get(n)!.values;
      const cell = (f: (typeof ENTITY_FIELDS)[number]): string => {
        const v = r[f];
        return (v === undefined ? '-' : f === 'number' ? String(v) : v.toFixed(4)).padStart(f === 'precision' ? 9 : 10);
      };
      lines.push(`  ${n.padEnd(tw)}  ${cell('precision')} ${cell('recall')} ${cell('f1')} ${cell('number')}`);
    }
  }
  return lines.join('\n') + '\n';
}
