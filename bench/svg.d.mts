export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}
export function lineChart(options: { title: string; xLabel: string; yLabel: string; series: Series[]; logX?: boolean }): string;
export function histogram(options: { title: string; xLabel: string; values: number[]; bins?: number; marks?: { at: number; label: string }[] }): string;
