import { describe, expect, it } from 'vitest';
import { figure } from '../../bench/areas.mjs';
import { renderReport } from '../../bench/report.mjs';
import { histogram, lineChart } from '../../bench/svg.mjs';

describe('the benchmark report', () => {
  it('computes the ratio to the baseline and says whether the goal is met', () => {
    expect(figure(3, 'ms', { baseline: 2.5, goal: '≤ 1.2x', met: 3 / 2.5 <= 1.2 })).toEqual({ value: 3, unit: 'ms', baseline: 2.5, ratio: 1.2, goal: '≤ 1.2x', met: true });
    expect(figure(null, 'ms').ratio).toBeNull();
  });

  it('lists every figure in a table with its baseline, ratio, goal and date, known ids first', () => {
    const at = '2026-12-02T17:00:00.000Z';
    const report = renderReport({
      at,
      machine: '2 cores',
      node: 'v20.20.2',
      chromium: '156.0',
      figures: {
        'zzz.extra': { ...figure(1, 'x'), at },
        'compile.1000': { ...figure(276.6, 'ms', { goal: '< 50 ms', met: false }), at },
        'persist.cycle.strict': { ...figure(3.1, 'ms', { baseline: 2.6, goal: '≤ 1.2x', met: true }), at },
      },
      plots: { 'cycle-vs-flow-size': { file: 'bench/plots/cycle-vs-flow-size.svg', at } },
    });
    const rows = report.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.map((row) => row.split('`')[1])).toEqual(['persist.cycle.strict', 'compile.1000', 'zzz.extra']);
    expect(rows[0]).toContain('| 3.1 ms | – | 2.6 | 1.19x | ≤ 1.2x | met | 2026-12-02 |');
    expect(rows[1]).toContain('**not met**');
    expect(report).toContain('![cycle-vs-flow-size](bench/plots/cycle-vs-flow-size.svg)');
    expect(report).toContain('Chromium 156.0');
    expect(report).toContain('- Machine: 2 cores');
  });

  it('names the machine of each area when a partial run kept figures measured on another', () => {
    const area = (at: string, machine?: string) => ({ at, seconds: 1, what: 'an area', ...(machine ? { machine } : {}) });
    const base = { at: '2026-12-04T15:00:00.000Z', machine: 'AMD, 2 cores', node: 'v20.20.2', chromium: null, figures: {} };
    const mixed = renderReport({ ...base, areas: { compile: area('2026-12-04T13:00:00.000Z', 'Xeon, 2 cores'), peers: area(base.at, 'AMD, 2 cores'), persist: area('2026-12-04T13:00:00.000Z', 'Xeon, 2 cores') } });
    expect(mixed).toContain('- Machine of compile, persist: Xeon, 2 cores\n- Machine of peers: AMD, 2 cores\n');
    expect(mixed).not.toContain('- Machine: ');
    // Results written before areas named their machine: the run's machine stands for all.
    const older = renderReport({ ...base, areas: { compile: area(base.at), peers: area(base.at) } });
    expect(older).toContain('- Machine: AMD, 2 cores\n');
  });
});

describe('the benchmark plots', () => {
  it('draw an accessible SVG line chart whose description carries the values', () => {
    const svg = lineChart({ title: 'Cycle by size', xLabel: 'actions', yLabel: 'ms', logX: true, series: [{ name: 'median', points: [[10, 3], [1000, 7.5]] }] });
    expect(svg).toMatch(/^<svg [^>]*role="img"/);
    expect(svg).toContain('<title id="t">Cycle by size</title>');
    expect(svg).toContain('median: 10 actions → 3; 1,000 actions → 7.5');
    expect(svg.match(/<circle /g)).toHaveLength(2);
  });

  it('bin every value of a histogram once', () => {
    const values = [1, 2, 2, 3, 40, 41];
    const svg = histogram({ title: 'Lateness', xLabel: 'ms', values, bins: 4, marks: [{ at: 2, label: 'p50 2 ms' }] });
    const counts = [...svg.matchAll(/<rect [^>]*><title>[^<]*: (\d+)<\/title>/g)].map((m) => Number(m[1]));
    expect(counts).toEqual([4, 0, 0, 2]);
    expect(svg).toContain('p50 2 ms');
  });
});
