import type { FunnelView } from '../../sync/index.ts';

/** A time span for people: `850 ms`, `12.5 s`, `4.2 min`, `1.5 h`; `-` for none. */
export function formatSpan(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);
const time = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

/** Lays out `rows` (the first is the header) in columns: text left-aligned, the rest right-aligned. */
function columns(rows: string[][], left: number[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (left.includes(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * A funnel as a plain-text table (what `wayflow funnel` prints): the totals, then one row per step in flow order
 * (the branches of a choice indented under it), then the moves back.
 * @example
 * console.log(formatFunnel((await storage.funnels('checkout', window, Date.now()))[0]));
 */
export function formatFunnel(funnel: FunnelView): string {
  const lines = [
    `Funnel of flow "${funnel.flowId}" version ${funnel.flowVersion}, tasks created from ${time(funnel.since)} to ${time(funnel.until)} UTC`,
    `${funnel.started} started, ${funnel.completed} completed (${percent(funnel.completed, funnel.started)}), ${funnel.aborted} aborted, ${funnel.abandoned} abandoned, ${funnel.inProgress} in progress`,
    '',
  ];
  const rows = [
    ['step', 'reached', 'of started', 'abandoned', 'in progress', 'median time', 'p90 time', 'refused', 'refused fields'],
    ...funnel.steps.map((step) => [
      `${'  '.repeat(step.depth)}${step.branchOf ? '↳ ' : ''}${step.step}`,
      String(step.reached),
      percent(step.reached, funnel.started),
      String(step.abandoned),
      String(step.inProgress),
      formatSpan(step.medianMs),
      formatSpan(step.p90Ms),
      String(step.refused),
      Object.entries(step.refusedFields)
        .map(([field, n]) => `${field} ${n}`)
        .join(', '),
    ]),
  ];
  lines.push(...columns(rows, [0, 8]));
  if (funnel.backMoves.length > 0) lines.push('', `Back and go-to moves: ${funnel.backMoves.map((move) => `${move.from} → ${move.to} ${move.count}`).join(', ')}`);
  return lines.join('\n');
}
