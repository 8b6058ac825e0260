// Self-contained HTML report for `shopframe eval` and `shopframe calibrate`: no scripts, no external assets.
// Every piece of caller-supplied text goes through escapeHtml (titles, paths, ids, notes).

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;',
  })[c]);
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const hasId = (v) => v !== null && v !== undefined;
const sameId = (a, b) => hasId(a) && hasId(b) && String(a) === String(b);
const pct = (v) => (isNum(v) ? `${(v * 100).toFixed(1)}%` : '—');
const fixed = (v, digits = 3) => (isNum(v) ? v.toFixed(digits) : '—');
const count = (v) => (isNum(v) ? String(v) : '—');
const thresholdText = (t) => (t === Infinity ? '∞ (nothing shown)' : fixed(t, 4));
const clamp01 = (v) => Math.min(1, Math.max(0, v));

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 16px}h2{font-size:17px;margin:28px 0 10px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d5d9e0;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f2f4f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.path{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all;max-width:420px}
.muted{color:#6b7280}.notes p{margin:4px 0}
svg text{font:11px system-ui,sans-serif;fill:#374151}
.grid{stroke:#e5e7eb}.axis{stroke:#374151}
.prec{fill:none;stroke:#2563eb;stroke-width:2}.fsr{fill:none;stroke:#dc2626;stroke-width:2;stroke-dasharray:5 3}
.op{fill:#f59e0b;stroke:#111827;stroke-width:1}
`;

function metricRows(m) {
  const rows = [
    ['Queries', count(m.queries)],
    ['In catalog', count(m.in_catalog)],
    ['Out of catalog', count(m.out_of_catalog)],
    ['Recall@1 (in catalog)', pct(m.recall_at_1)],
    ['Recall@5 (in catalog)', pct(m.recall_at_5)],
    ['Coverage (in catalog with an item suggestion)', pct(m.coverage)],
    ['Precision (shown item suggestions that are right)', pct(m.precision)],
    ['False-suggestion rate (out of catalog with an item suggestion)', pct(m.false_suggestion_rate)],
  ];
  const cat = m.category_suggestions;
  if (cat && typeof cat === 'object') {
    rows.push(['Category suggestions shown', count(cat.shown)]);
    rows.push(['Category suggestions right', count(cat.right)]);
  }
  return rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td class="n">${escapeHtml(v)}</td></tr>`).join('\n');
}

function timingTable(timings) {
  if (!timings || typeof timings !== 'object' || Object.keys(timings).length === 0) return '';
  const rows = Object.entries(timings).map(([stage, t]) =>
    `<tr><th scope="row">${escapeHtml(stage)}</th><td class="n">${escapeHtml(fixed(t?.mean, 2))}</td>` +
    `<td class="n">${escapeHtml(fixed(t?.p50, 2))}</td><td class="n">${escapeHtml(fixed(t?.p95, 2))}</td></tr>`);
  return `<h2>Timings (ms)</h2>
<table><thead><tr><th>Stage</th><th>Mean</th><th>p50</th><th>p95</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

function calibrationTable(c) {
  if (!c || typeof c !== 'object') return '';
  const rows = [
    ['Threshold (confidence ≥ threshold is shown)', thresholdText(c.threshold)],
    ['Coverage', pct(c.coverage)],
    ['Precision', pct(c.precision)],
    ['False-suggestion rate', pct(c.false_suggestion_rate)],
  ].map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td class="n">${escapeHtml(v)}</td></tr>`);
  return `<h2>Operating point</h2>
<table><tbody>
${rows.join('\n')}
</tbody></table>`;
}

// Precision and false-suggestion rate against coverage, both on a 0..1 axis.
function plotSvg(curve, calibration) {
  const W = 640, H = 380, ml = 56, mr = 180, mt = 16, mb = 52;
  const pw = W - ml - mr, ph = H - mt - mb;
  const sx = (v) => (ml + clamp01(v) * pw).toFixed(1);
  const sy = (v) => (mt + (1 - clamp01(v)) * ph).toFixed(1);
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="plot-title">`);
  parts.push('<title id="plot-title">Precision and false-suggestion rate versus coverage</title>');
  for (let i = 0; i <= 5; ++i) {
    const v = i / 5;
    const x = sx(v), y = sy(v);
    parts.push(`<line class="grid" x1="${x}" y1="${sy(0)}" x2="${x}" y2="${sy(1)}" stroke="#e5e7eb"/>`);
    parts.push(`<line class="grid" x1="${sx(0)}" y1="${y}" x2="${sx(1)}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<line class="axis" stroke="#374151" x1="${x}" y1="${sy(0)}" x2="${x}" y2="${(+sy(0) + 5).toFixed(1)}"/>`);
    parts.push(`<line class="axis" stroke="#374151" x1="${(+sx(0) - 5).toFixed(1)}" y1="${y}" x2="${sx(0)}" y2="${y}"/>`);
    parts.push(`<text x="${x}" y="${(+sy(0) + 18).toFixed(1)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${(+sx(0) - 8).toFixed(1)}" y="${(+y + 4).toFixed(1)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<line class="axis" stroke="#374151" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(0)}"/>`);
  parts.push(`<line class="axis" stroke="#374151" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(0)}" y2="${sy(1)}"/>`);
  parts.push(`<text x="${(ml + pw / 2).toFixed(1)}" y="${H - 12}" text-anchor="middle">coverage (in-catalog queries with an item suggestion)</text>`);
  parts.push(`<text transform="translate(16 ${(mt + ph / 2).toFixed(1)}) rotate(-90)" text-anchor="middle">rate</text>`);

  const pts = Array.isArray(curve) ? [...curve].filter((p) => p && isNum(p.coverage)) : [];
  pts.sort((a, b) => (isNum(b.threshold) ? b.threshold : -Infinity) - (isNum(a.threshold) ? a.threshold : -Infinity));
  const series = (key) => pts.filter((p) => isNum(p[key])).map((p) => `${sx(p.coverage)},${sy(p[key])}`).join(' ');
  const prec = series('precision'), fsr = series('false_suggestion_rate');
  if (prec) parts.push(`<polyline class="prec" points="${prec}" fill="none" stroke="#2563eb" stroke-width="2"/>`);
  if (fsr) parts.push(`<polyline class="fsr" points="${fsr}" fill="none" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"/>`);
  if (!prec && !fsr) {
    parts.push(`<text x="${(ml + pw / 2).toFixed(1)}" y="${(mt + ph / 2).toFixed(1)}" text-anchor="middle" class="muted">no data</text>`);
  }

  if (calibration && isNum(calibration.coverage)) {
    const label = `operating point, threshold ${thresholdText(calibration.threshold)}`;
    if (isNum(calibration.precision)) {
      parts.push(`<circle class="op" cx="${sx(calibration.coverage)}" cy="${sy(calibration.precision)}" r="5" fill="#f59e0b" stroke="#111827"><title>${escapeHtml(
        `${label}: coverage ${pct(calibration.coverage)}, precision ${pct(calibration.precision)}`)}</title></circle>`);
    }
    if (isNum(calibration.false_suggestion_rate)) {
      parts.push(`<rect class="op" x="${(+sx(calibration.coverage) - 4).toFixed(1)}" y="${(+sy(calibration.false_suggestion_rate) - 4).toFixed(1)}" width="8" height="8" fill="#f59e0b" stroke="#111827"><title>${escapeHtml(
        `${label}: coverage ${pct(calibration.coverage)}, false-suggestion rate ${pct(calibration.false_suggestion_rate)}`)}</title></rect>`);
    }
  }

  const lx = ml + pw + 16;
  parts.push(`<line class="prec" stroke="#2563eb" stroke-width="2" x1="${lx}" y1="${mt + 10}" x2="${lx + 24}" y2="${mt + 10}"/><text x="${lx + 30}" y="${mt + 14}">precision</text>`);
  parts.push(`<line class="fsr" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3" x1="${lx}" y1="${mt + 30}" x2="${lx + 24}" y2="${mt + 30}"/><text x="${lx + 30}" y="${mt + 34}">false-suggestion rate</text>`);
  parts.push(`<circle class="op" cx="${lx + 12}" cy="${mt + 50}" r="5" fill="#f59e0b" stroke="#111827"/><text x="${lx + 30}" y="${mt + 54}">operating point</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

// Wrong item suggestions that were shown, most confident first.
function mistakesTable(records, maxMistakes) {
  if (!Array.isArray(records)) return '';
  const mistakes = records.filter((r) => r && r.suggestion && r.suggestion.kind === 'item' && hasId(r.suggestion.id) &&
    !sameId(r.suggestion.id, r.expected));
  const conf = (r) => (isNum(r.suggestion.confidence) ? r.suggestion.confidence : -Infinity);
  mistakes.sort((a, b) => conf(b) - conf(a) || String(a.image ?? '').localeCompare(String(b.image ?? '')));
  const shownMistakes = mistakes.slice(0, maxMistakes);
  const head = `<h2>Worst mistakes</h2>
<p class="muted">Wrong item suggestions that were shown, most confident first: ${escapeHtml(shownMistakes.length)} of ${escapeHtml(mistakes.length)}.</p>`;
  if (mistakes.length === 0) return `${head}\n<p>No wrong item suggestions.</p>`;
  const rows = shownMistakes.map((r, i) => {
    const top = Array.isArray(r.top) ? r.top : [];
    const suggested = top.find((t) => sameId(t?.id, r.suggestion.id));
    const suggestedText = suggested?.title ? `${r.suggestion.id} — ${suggested.title}` : String(r.suggestion.id);
    const inCatalog = hasId(r.expected);
    const rank = inCatalog ? top.findIndex((t) => sameId(t?.id, r.expected)) : -1;
    const expectedText = inCatalog ? String(r.expected) : '— (not in catalog)';
    const rankText = inCatalog ? (rank >= 0 ? `#${rank + 1}` : 'not ranked') : '—';
    const kind = inCatalog ? 'wrong item' : 'false suggestion';
    return `<tr><td class="n">${i + 1}</td><td class="path">${escapeHtml(r.image)}</td><td>${escapeHtml(expectedText)}</td>` +
      `<td>${escapeHtml(suggestedText)}</td><td class="n">${escapeHtml(fixed(r.suggestion.confidence, 3))}</td>` +
      `<td>${escapeHtml(kind)}</td><td class="n">${escapeHtml(rankText)}</td></tr>`;
  });
  return `${head}
<table><thead><tr><th>#</th><th>Image</th><th>Expected</th><th>Suggested</th><th>Confidence</th><th>Kind</th><th>Expected rank</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

// One table per calibrated threshold kind: per category, the queries it had, the threshold
// applied there (its own, or the global one when it had too little data) and what that gives.
function perCategoryTables(tables) {
  if (!Array.isArray(tables) || tables.length === 0) return '';
  const parts = ['<h2>Per category</h2>'];
  for (const t of tables) {
    const rows = Array.isArray(t?.rows) ? t.rows : [];
    parts.push(`<h3>${escapeHtml(t.title)}</h3>`);
    parts.push(`<p class="muted">A category gets its own threshold with at least ${escapeHtml(count(t.minInCatalog))} in-catalog and ` +
      `${escapeHtml(count(t.minOutOfCatalog))} out-of-catalog queries whose candidate is in it; elsewhere the global threshold ` +
      `${escapeHtml(thresholdText(t.global))} applies (one threshold for everything would be ${escapeHtml(thresholdText(t.globalOnly?.threshold))}: ` +
      `coverage ${escapeHtml(pct(t.globalOnly?.coverage))}, false-suggestion rate ${escapeHtml(pct(t.globalOnly?.false_suggestion_rate))}).</p>`);
    if (t.dropped) parts.push(`<p>${escapeHtml(t.dropped)}</p>`);
    if (!rows.length) {
      parts.push('<p>No query had a candidate with a category.</p>');
      continue;
    }
    const body = rows.map((r) => {
      const threshold = r.own ? thresholdText(r.threshold) : `global threshold: too little data (${thresholdText(r.threshold)})`;
      return `<tr><td>${escapeHtml(r.category)}</td><td class="n">${escapeHtml(count(r.in_catalog))}</td>` +
        `<td class="n">${escapeHtml(count(r.out_of_catalog))}</td><td${r.own ? ' class="n"' : ''}>${escapeHtml(threshold)}</td>` +
        `<td class="n">${escapeHtml(pct(r.coverage))}</td><td class="n">${escapeHtml(pct(r.precision))}</td>` +
        `<td class="n">${escapeHtml(pct(r.false_suggestion_rate))}</td></tr>`;
    });
    parts.push(`<table><thead><tr><th>Category</th><th>Queries in catalog</th><th>Queries out of catalog</th><th>Threshold</th>` +
      `<th>Coverage</th><th>Precision</th><th>False-suggestion rate</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody></table>`);
  }
  return parts.join('\n');
}

function notesHtml(notes) {
  if (notes === undefined || notes === null || notes === '') return '';
  const list = Array.isArray(notes) ? notes : [notes];
  return `<h2>Notes</h2>\n<div class="notes">${list.map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}</div>`;
}

/**
 * Render the evaluation report as one self-contained HTML document (inline CSS and SVG,
 * no scripts, no external assets). All inputs are optional; text is HTML-escaped.
 * perCategory: tables of per-category thresholds, each { title, rows: calibrateByCategory's
 * `categories`, minInCatalog, minOutOfCatalog, global (threshold), globalOnly, dropped }.
 * @param {{ title?: string, metrics?: object, curve?: object[], calibration?: object,
 *   records?: object[], notes?: string|string[], maxMistakes?: number, perCategory?: object[] }} input
 * @returns {string}
 */
export function renderReport({ title = 'shopframe evaluation', metrics = {}, curve = [], calibration = null, records = [], notes = null, maxMistakes = 50, perCategory = [] } = {}) {
  const m = metrics && typeof metrics === 'object' ? metrics : {};
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<h2>Metrics</h2>
<table><tbody>
${metricRows(m)}
</tbody></table>
${calibrationTable(calibration)}
<h2>Precision and false-suggestion rate vs coverage</h2>
${plotSvg(curve, calibration)}
${perCategoryTables(perCategory)}
${timingTable(m.timings_ms)}
${mistakesTable(records, Math.max(0, Math.floor(Number(maxMistakes) || 0)))}
${notesHtml(notes)}
</body>
</html>
`;
}
