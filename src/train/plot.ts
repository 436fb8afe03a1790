// Training curves as a self-contained SVG (no dependency, viewable in any browser): two stacked
// panels sharing the step axis, training (and evaluation) loss on top, the evaluation F1 below.
// Input is HF-style log history: records with `step` and `loss` / `eval_loss` / `eval_f1`.

import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type PlotRecord = Readonly<Record<string, unknown>>;

export interface PlotOptions {
  title?: string;
  /** Metric for the lower panel (default: the first of eval_f1, eval_overall_f1 present). */
  metric?: string;
  width?: number;
  height?: number;
}

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  markers?: boolean;
  points: [number, number][];
}

/** Escapes text for SVG element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Round tick positions covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, target = 5, minStep = 0): { ticks: number[]; step: number; min: number; max: number } {
  // A flat (or numerically flat) range gets padding, so the axis has a span to divide.
  if (!(hi - lo > Math.max(Math.abs(lo), Math.abs(hi)) * 1e-9) || hi - lo < 1e-300) {
    const pad = Math.abs(lo) * 0.1 > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(
    minStep,
    [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw && (minStep === 0 || Number.isInteger(s))) ?? 10 * mag,
  );
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(min + k * step);
  return { ticks, step, min, max };
}

/** A tick value with as many decimals as the tick step needs (0.25 -> 2, 50 -> 0). */
function tickLabel(v: number, step: number): string {
  const st = String(Number(step.toPrecision(10)));
  const decimals = st.includes('e-')
    ? Number(st.split('e-')[1]) + (st.split('e')[0]!.split('.')[1]?.length ?? 0)
    : (st.split('.')[1]?.length ?? 0);
  const s = v.toFixed(Math.min(decimals, 20));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function seriesOf(records: readonly PlotRecord[], key: string): [number, number][] {
  const pts: [number, number][] = [];
  for (const r of records) {
    const step = r.step;
    const v = r[key];
    if (typeof step === 'number' && Number.isFinite(step) && typeof v === 'number' && Number.isFinite(v)) pts.push([step, v]);
  }
  return pts.sort((a, b) => a[0] - b[0]);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function panel(
  out: string[],
  box: Box,
  series: Series[],
  xDomain: { min: number; max: number; ticks: number[]; step: number },
  yLabel: string,
  xLabel: string | null,
): void {
  const all = series.flatMap((s) => s.points.map((p) => p[1]));
  const y = all.length
    ? niceTicks(
        all.reduce((a, b) => Math.min(a, b), Infinity),
        all.reduce((a, b) => Math.max(a, b), -Infinity),
      )
    : niceTicks(0, 1);
  const sx = (v: number): number => box.x + ((v - xDomain.min) / (xDomain.max - xDomain.min)) * box.w;
  const sy = (v: number): number => box.y + box.h - ((v - y.min) / (y.max - y.min)) * box.h;

  out.push(`<g class="panel" data-label="${escapeXml(yLabel)}">`);
  out.push(
    `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="${num(box.h)}" fill="#fcfcfc" stroke="#888" stroke-width="1"/>`,
  );
  // Grid lines and tick labels.
  for (const t of y.ticks) {
    const py = num(sy(t));
    out.push(`<line x1="${num(box.x)}" y1="${py}" x2="${num(box.x + box.w)}" y2="${py}" stroke="#e4e4e4" stroke-width="1"/>`);
    out.push(`<line x1="${num(box.x - 5)}" y1="${py}" x2="${num(box.x)}" y2="${py}" stroke="#888" stroke-width="1"/>`);
    out.push(`<text x="${num(box.x - 8)}" y="${py}" text-anchor="end" dy="0.35em">${escapeXml(tickLabel(t, y.step))}</text>`);
  }
  for (const t of xDomain.ticks) {
    const px = num(sx(t));
    out.push(`<line x1="${px}" y1="${num(box.y)}" x2="${px}" y2="${num(box.y + box.h)}" stroke="#eeeeee" stroke-width="1"/>`);
    out.push(`<line x1="${px}" y1="${num(box.y + box.h)}" x2="${px}" y2="${num(box.y + box.h + 5)}" stroke="#888" stroke-width="1"/>`);
    out.push(`<text x="${px}" y="${num(box.y + box.h + 18)}" text-anchor="middle">${escapeXml(tickLabel(t, xDomain.step))}</text>`);
  }
  out.push(
    `<text x="${num(box.x - 52)}" y="${num(box.y + box.h / 2)}" text-anchor="middle" transform="rotate(-90 ${num(box.x - 52)} ${num(box.y + box.h / 2)})" font-size="13">${escapeXml(yLabel)}</text>`,
  );
  if (xLabel !== null)
    out.push(
      `<text x="${num(box.x + box.w / 2)}" y="${num(box.y + box.h + 38)}" text-anchor="middle" font-size="13">${escapeXml(xLabel)}</text>`,
    );

  const drawn = series.filter((s) => s.points.length > 0);
  if (drawn.length === 0) {
    out.push(`<text x="${num(box.x + box.w / 2)}" y="${num(box.y + box.h / 2)}" text-anchor="middle" fill="#999">no data</text>`);
  }
  for (const s of drawn) {
    const pts = s.points.map(([a, b]) => `${num(sx(a))},${num(sy(b))}`).join(' ');
    out.push(
      `<polyline class="series" data-series="${escapeXml(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts}"/>`,
    );
    if (s.markers || s.points.length === 1) {
      for (const [a, b] of s.points) out.push(`<circle cx="${num(sx(a))}" cy="${num(sy(b))}" r="3" fill="${s.color}"/>`);
    }
  }
  // Legend: one row above the panel's top-right corner, outside the plotting area, so that it
  // never hides a curve (rising F1 curves end exactly where an inside legend would sit).
  if (drawn.length > 0) {
    const itemW = (sr: Series): number => 30 + sr.name.length * 7;
    let lx = box.x + box.w - drawn.reduce((acc, sr) => acc + itemW(sr), 0);
    const cy = box.y - 10;
    out.push('<g class="legend">');
    for (const sr of drawn) {
      out.push(
        `<line x1="${num(lx)}" y1="${num(cy)}" x2="${num(lx + 18)}" y2="${num(cy)}" stroke="${sr.color}" stroke-width="2"${sr.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
      if (sr.markers) out.push(`<circle cx="${num(lx + 9)}" cy="${num(cy)}" r="3" fill="${sr.color}"/>`);
      out.push(`<text x="${num(lx + 22)}" y="${num(cy)}" dy="0.35em">${escapeXml(sr.name)}</text>`);
      lx += itemW(sr);
    }
    out.push('</g>');
  }
  out.push('</g>');
}

/** The SVG text of the training-curves figure. */
export function renderTrainingPlot(records: readonly PlotRecord[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 800;
  const height = opts.height ?? 600;
  const metric = opts.metric ?? ['eval_f1', 'eval_overall_f1'].find((k) => records.some((r) => typeof r[k] === 'number')) ?? 'eval_f1';
  const lossSeries: Series[] = [{ name: 'training loss', color: '#1f77b4', points: seriesOf(records, 'loss') }];
  const evalLoss = seriesOf(records, 'eval_loss');
  if (evalLoss.length) lossSeries.push({ name: 'eval loss', color: '#ff7f0e', dashed: true, markers: true, points: evalLoss });
  const metricSeries: Series[] = [{ name: metric, color: '#2ca02c', markers: true, points: seriesOf(records, metric) }];

  const steps = [...lossSeries, ...metricSeries].flatMap((s) => s.points.map((p) => p[0]));
  const x = niceTicks(
    steps.reduce((a, b) => Math.min(a, b), 0),
    steps.length ? steps.reduce((a, b) => Math.max(a, b), -Infinity) : 1,
    8,
    1,
  ); // steps are integers: no fractional ticks

  const left = 80;
  const right = 24;
  const top = 64;
  const gap = 64;
  const bottom = 56;
  const panelH = (height - top - gap - bottom) / 2;
  const panelW = width - left - right;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
  );
  out.push(`<title>${escapeXml(opts.title ?? 'Training curves')}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="${num(width / 2)}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(opts.title ?? 'Training curves')}</text>`,
  );
  panel(out, { x: left, y: top, w: panelW, h: panelH }, lossSeries, x, 'loss', null);
  panel(
    out,
    { x: left, y: top + panelH + gap, w: panelW, h: panelH },
    metricSeries,
    x,
    metric.replace(/^eval_/, 'eval ').replace(/_/g, ' '),
    'step',
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export const PLOT_FILE_NAME = 'training_curves.svg';

/** Writes outputDir/training_curves.svg and returns its path. */
export function writeTrainingPlot(outputDir: string, records: readonly PlotRecord[], opts: PlotOptions = {}): string {
  mkdirSync(outputDir, { recursive: true });
  const path = join(outputDir, PLOT_FILE_NAME);
  writeFileSync(path, renderTrainingPlot(records, opts));
  return path;
}
