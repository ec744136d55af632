// Small SVG charts for the benchmark report: lines over a (log) x axis, and a histogram.
// Plain SVG with a <title>, axis labels and the values in <desc>, so the picture reads
// without a chart library and screen readers get the numbers.

const W = 640;
const H = 360;
const PAD = { left: 64, right: 16, top: 40, bottom: 52 };
const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed'];
const esc = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const fmt = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : Number(v.toPrecision(3)).toString());

/** Ticks for a linear axis from 0 to max. */
function linearTicks(max) {
  const step = 10 ** Math.floor(Math.log10(max || 1));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 6) ?? step * 10;
  return Array.from({ length: Math.floor(max / unit) + 1 }, (_, i) => i * unit);
}

function frame(title, xLabel, yLabel, body, desc) {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="t d" font-family="system-ui, sans-serif" font-size="12">
<title id="t">${esc(title)}</title>
<desc id="d">${esc(desc)}</desc>
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>
<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(16 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body}
</svg>
`;
}

/**
 * A line chart: `series` = [{ name, points: [[x, y], ...] }]. `logX` spaces x by powers of ten
 * (flow and task sizes). The y axis starts at 0.
 */
export function lineChart({ title, xLabel, yLabel, series, logX = false }) {
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const yMax = Math.max(...ys) * 1.1 || 1;
  const fx = (x) => {
    const t = logX ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1) : (x - x0) / (x1 - x0 || 1);
    return PAD.left + t * (W - PAD.left - PAD.right);
  };
  const fy = (y) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const yTicks = linearTicks(yMax);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  let body = `<g stroke="#e5e7eb">${yTicks.map((t) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${fy(t)}" y2="${fy(t)}"/>`).join('')}</g>`;
  body += `<g fill="#374151" text-anchor="end">${yTicks.map((t) => `<text x="${PAD.left - 6}" y="${fy(t) + 4}">${fmt(t)}</text>`).join('')}</g>`;
  body += `<g fill="#374151" text-anchor="middle">${xTicks.map((t) => `<text x="${fx(t)}" y="${H - PAD.bottom + 18}">${fmt(t)}</text>`).join('')}</g>`;
  body += `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#6b7280"/><line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#6b7280"/>`;
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const path = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${fx(x).toFixed(1)} ${fy(y).toFixed(1)}`).join(' ');
    body += `<path d="${path}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
    body += s.points.map(([x, y]) => `<circle cx="${fx(x).toFixed(1)}" cy="${fy(y).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name}: ${fmt(x)} → ${fmt(y)}`)}</title></circle>`).join('');
    body += `<rect x="${PAD.left + 12}" y="${PAD.top + 4 + i * 18}" width="12" height="3" fill="${color}"/><text x="${PAD.left + 30}" y="${PAD.top + 10 + i * 18}">${esc(s.name)}</text>`;
  });
  const desc = series.map((s) => `${s.name}: ${s.points.map(([x, y]) => `${fmt(x)} ${xLabel} → ${fmt(y)}`).join('; ')}`).join('. ');
  return frame(title, xLabel, yLabel, body, desc);
}

/** A histogram of `values` in `bins` equal bins from 0 (or the minimum, if negative) to the maximum. */
export function histogram({ title, xLabel, values, bins = 20, marks = [] }) {
  const lo = Math.min(0, ...values);
  const hi = Math.max(...values, lo + 1);
  const width = (hi - lo) / bins;
  const counts = Array.from({ length: bins }, () => 0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
  const yMax = Math.max(...counts) * 1.1 || 1;
  const fx = (x) => PAD.left + ((x - lo) / (hi - lo)) * (W - PAD.left - PAD.right);
  const fy = (y) => H - PAD.bottom - (y / yMax) * (H - PAD.top - PAD.bottom);
  const yTicks = linearTicks(yMax);
  let body = `<g stroke="#e5e7eb">${yTicks.map((t) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${fy(t)}" y2="${fy(t)}"/>`).join('')}</g>`;
  body += `<g fill="#374151" text-anchor="end">${yTicks.map((t) => `<text x="${PAD.left - 6}" y="${fy(t) + 4}">${fmt(t)}</text>`).join('')}</g>`;
  body += `<g fill="#374151" text-anchor="middle">${[0, 0.25, 0.5, 0.75, 1].map((t) => `<text x="${fx(lo + t * (hi - lo))}" y="${H - PAD.bottom + 18}">${fmt(lo + t * (hi - lo))}</text>`).join('')}</g>`;
  body += counts
    .map((c, i) => `<rect x="${fx(lo + i * width) + 1}" y="${fy(c)}" width="${Math.max(1, fx(lo + (i + 1) * width) - fx(lo + i * width) - 2)}" height="${H - PAD.bottom - fy(c)}" fill="${COLORS[0]}"><title>${fmt(lo + i * width)}–${fmt(lo + (i + 1) * width)}: ${c}</title></rect>`)
    .join('');
  body += marks.map((m, i) => `<line x1="${fx(m.at)}" x2="${fx(m.at)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="${COLORS[(i + 1) % COLORS.length]}" stroke-dasharray="4 3"/><text x="${fx(m.at) + 4}" y="${PAD.top + 12 + i * 14}" fill="${COLORS[(i + 1) % COLORS.length]}">${esc(m.label)}</text>`).join('');
  body += `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#6b7280"/>`;
  const desc = `${values.length} values from ${fmt(Math.min(...values))} to ${fmt(Math.max(...values))}; ${marks.map((m) => `${m.label}`).join(', ')}`;
  return frame(title, xLabel, 'count', body, desc);
}
