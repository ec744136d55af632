import { useId } from 'react';
import type { FunnelView } from '../../sync/index.ts';

/** The column headings of a funnel's table (English by default; pass your own to translate). */
export const funnelColumns = ['Step', 'Reached', 'Abandoned', 'Refused', 'Median time', 'p90 time'];

const span = (ms: number | null) => (ms === null ? '-' : ms < 1e3 ? `${ms} ms` : `${(ms / 1e3).toFixed(1)} s`);

/**
 * A flow's funnel (`GET /funnels/:flow`): a bar per step as wide as the share of started tasks that reached it (the
 * branches of a choice indented under it), and a table beside it with what was reached, abandoned and refused (by
 * field) at each step and the time spent there, for screen readers and for reading numbers.
 * @example
 * <Funnel title="Checkout, last 7 days" funnel={funnels[0]} />
 */
export function Funnel({ funnel, title, columns = funnelColumns }: { funnel: FunnelView; title: string; columns?: string[] }) {
  const id = useId();
  const { steps, started } = funnel;
  return (
    <figure className="wayflow-funnel">
      <svg viewBox={`0 0 480 ${steps.length * 28}`} role="img" aria-labelledby={id} width="480">
        <title id={id}>{title}</title>
        {steps.map((s, i) => (
          <g key={s.step} transform={`translate(${s.depth * 24} ${i * 28})`}>
            <rect width={(s.reached / (started || 1)) * 300 + 1} height="24" fill="currentColor" opacity=".25" />
            <text x="6" y="17" fontSize="13">{`${s.step}: ${s.reached}`}</text>
          </g>
        ))}
      </svg>
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.step}>
              <th scope="row">{s.step}</th>
              <td>{s.reached}</td>
              <td>{s.abandoned}</td>
              <td>{`${s.refused}${s.refused ? ` (${Object.entries(s.refusedFields).map(([f, n]) => `${f} ${n}`).join(', ')})` : ''}`}</td>
              <td>{span(s.medianMs)}</td>
              <td>{span(s.p90Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
