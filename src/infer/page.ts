/**
 * The web page `GET /` serves: one self-contained HTML document (inline CSS and script, no
 * external assets) where a person pastes text and sees the entities highlighted in the text,
 * coloured by type with the type's name beside each, in the spirit of spaCy's displaCy.
 * User text only ever reaches the DOM through textContent, never as HTML.
 */
import { createHash } from 'node:crypto';

/** displaCy's colours for common types, plus the names other datasets use for the same things. */
const TYPE_COLOURS: Record<string, string> = {
  PER: '#aa9cfc',
  PERSON: '#aa9cfc',
  ORG: '#7aecec',
  CORPORATION: '#7aecec',
  LOC: '#ff9561',
  LOCATION: '#ff9561',
  FAC: '#9cc9cc',
  GPE: '#feca74',
  MISC: '#ddd',
  NORP: '#c887fb',
  GROUP: '#c887fb',
  EVENT: '#ffeb80',
  LAW: '#ff8197',
  LANGUAGE: '#ff8197',
  WORK_OF_ART: '#f0d0ff',
  'CREATIVE-WORK': '#f0d0ff',
  DATE: '#bfe1d9',
  TIME: '#bfe1d9',
  MONEY: '#e4e7d2',
  QUANTITY: '#e4e7d2',
  ORDINAL: '#e4e7d2',
  CARDINAL: '#e4e7d2',
  PERCENT: '#e4e7d2',
  PRODUCT: '#bfeeb7',
};

/** The entity type of a label: "B-PER" -> "PER", "PER" -> "PER" (BIO, BIOES and BILOU prefixes). */
export function entityType(label: string): string {
  return /^[BIESLU]-/.test(label) ? label.slice(2) : label;
}

/** A stable colour per type: displaCy's where it has one, otherwise a pastel from the name. */
export function typeColour(type: string): string {
  const known = TYPE_COLOURS[type.toUpperCase()];
  if (known) return known;
  let h = 0;
  for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360}, 70%, 80%)`;
}

export interface PageInfo {
  name: string;
  labels: readonly string[];
  defaultAggregation: string;
  maxTextChars: number;
}

const STYLE = `
:root { color-scheme: light; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
body { margin: 0; background: #f6f7f9; color: #1d1f23; }
header { background: #1d1f23; color: #fff; padding: 14px 24px; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; font-weight: 600; }
header .model { opacity: .75; font-size: 14px; }
main { max-width: 980px; margin: 0 auto; padding: 20px 24px 40px; }
textarea { width: 100%; box-sizing: border-box; min-height: 130px; font: inherit; font-size: 16px; line-height: 1.5;
  padding: 10px 12px; border: 1px solid #c9ccd3; border-radius: 6px; resize: vertical; background: #fff; }
.controls { display: flex; gap: 12px; align-items: center; margin: 10px 0 18px; flex-wrap: wrap; }
button { font: inherit; font-weight: 600; padding: 8px 18px; border-radius: 6px; border: 0; background: #3a62d7; color: #fff; cursor: pointer; }
button:disabled { background: #8c9bc7; cursor: wait; }
select { font: inherit; padding: 6px 8px; border-radius: 6px; border: 1px solid #c9ccd3; background: #fff; }
#status { color: #5b606b; font-size: 14px; }
#status.error { color: #b3261e; font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.legend span { font-size: 12px; font-weight: 700; padding: 3px 8px; border-radius: 4px; letter-spacing: .03em; }
#result { background: #fff; border: 1px solid #e1e3e8; border-radius: 8px; padding: 18px 20px; font-size: 17px;
  line-height: 2.6; white-space: pre-wrap; overflow-wrap: anywhere; min-height: 2.6em; }
#result:empty::before { content: "Entities will appear here."; color: #9a9ea8; }
mark.entity { padding: .3em .45em; margin: 0 .1em; border-radius: .35em; line-height: 1; color: #1d1f23;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; }
mark.entity .label { font-size: .62em; font-weight: 700; text-transform: uppercase; letter-spacing: .02em;
  margin-left: .5em; vertical-align: middle; opacity: .85; user-select: none; }
table { border-collapse: collapse; width: 100%; margin-top: 18px; font-size: 14px; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e8e9ed; }
th { font-weight: 600; color: #5b606b; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
th:nth-child(2), td:nth-child(2) { width: 60%; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .4em; vertical-align: -.05em; }
`;

const SCRIPT = `
(() => {
  const info = JSON.parse(document.getElementById('info').textContent);
  const $ = (id) => document.getElementById(id);
  const typeOf = (label) => (/^[BIESLU]-/.test(label) ? label.slice(2) : label);
  const colour = (type) => info.colours[type] || (() => {
    let h = 0;
    for (let i = 0; i < type.length; i++) h = (h * 31 + type.charCodeAt(i)) >>> 0;
    return 'hsl(' + (h % 360) + ', 70%, 80%)';
  })();
  const el = (tag, props, ...kids) => { const e = document.createElement(tag); Object.assign(e, props || {}); e.append(...kids); return e; };

  function render(text, entities) {
    const out = $('result');
    const rows = $('rows');
    out.replaceChildren();
    rows.replaceChildren();
    const sorted = entities.slice().sort((a, b) => a.start - b.start);
    let pos = 0;
    for (const e of sorted) {
      if (e.start < pos || e.end > text.length || e.end <= e.start) continue; // never overlap
      const label = e.entity_group || e.entity;
      const type = typeOf(label);
      out.append(text.slice(pos, e.start));
      const mark = el('mark', { className: 'entity', title: label + ' ' + e.score.toFixed(3) }, text.slice(e.start, e.end), el('span', { className: 'label', textContent: label }));
      mark.dataset.label = label;
      mark.dataset.type = type;
      mark.style.background = colour(type);
      out.append(mark);
      pos = e.end;
      const sw = el('span', { className: 'swatch' });
      sw.style.background = colour(type);
      rows.append(el('tr', {}, el('td', {}, sw, label), el('td', { textContent: text.slice(e.start, e.end) }),
        el('td', { className: 'num', textContent: e.score.toFixed(3) }), el('td', { className: 'num', textContent: e.start + '–' + e.end })));
    }
    out.append(text.slice(pos));
    $('table').hidden = sorted.length === 0;
  }

  async function analyze() {
    const text = $('text').value;
    const status = $('status');
    status.className = '';
    if (!text.trim()) { status.textContent = 'Type or paste some text first.'; return; }
    $('go').disabled = true;
    status.textContent = 'Analyzing…';
    const t0 = performance.now();
    try {
      const res = await fetch('predict', { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, aggregation_strategy: $('agg').value }) });
      const body = await res.json().catch(() => ({ error: 'the server sent something that is not JSON' }));
      if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
      render(text, body.entities);
      const n = body.entities.length;
      status.textContent = n + (n === 1 ? ' entity' : ' entities') + ' in ' + Math.round(performance.now() - t0) + ' ms';
    } catch (err) {
      status.className = 'error';
      status.textContent = String(err.message || err);
    } finally {
      $('go').disabled = false;
    }
  }

  const legend = $('legend');
  for (const type of info.types) {
    const s = el('span', { textContent: type });
    s.style.background = colour(type);
    legend.append(s);
  }
  $('agg').value = info.defaultAggregation;
  $('go').addEventListener('click', analyze);
  $('text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) analyze(); });
})();
`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script type="application/json"> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export interface Page {
  html: string;
  /** Content-Security-Policy allowing exactly the inline script and style, and fetches to this origin. */
  csp: string;
}

export function renderPage(info: PageInfo): Page {
  const types = [...new Set(info.labels.map(entityType))].filter((t) => t !== 'O');
  const colours = Object.fromEntries(types.map((t) => [t, typeColour(t)]));
  const data = scriptJson({ types, colours, defaultAggregation: info.defaultAggregation });
  const strategies = ['first', 'simple', 'average', 'max', 'none'];
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>tokentune · ${escapeHtml(info.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>tokentune</h1><span class="model">model: ${escapeHtml(info.name)} · ${info.labels.length} labels</span></header>
<main>
<label for="text" style="display:block;font-weight:600;margin-bottom:6px">Text</label>
<textarea id="text" maxlength="${info.maxTextChars}" placeholder="Paste text here, then press Analyze (Ctrl+Enter)."></textarea>
<div class="controls">
<button id="go" type="button">Analyze</button>
<label>aggregation <select id="agg">${strategies.map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
<span id="status" role="status"></span>
</div>
<div class="legend" id="legend"></div>
<div id="result" aria-live="polite"></div>
<table id="table" hidden><thead><tr><th>label</th><th>text</th><th>score</th><th>span</th></tr></thead><tbody id="rows"></tbody></table>
</main>
<script type="application/json" id="info">${data}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
  const hash = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
  const csp = `default-src 'none'; script-src ${hash(SCRIPT)}; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return { html, csp };
}
