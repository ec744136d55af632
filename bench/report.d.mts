import type { Figure } from './areas.mjs';
export interface BenchResults {
  at: string;
  machine: string;
  node: string;
  chromium: string | null;
  figures: Record<string, Figure & { at: string }>;
  plots?: Record<string, { file: string; at: string }>;
}
export function renderReport(results: BenchResults): string;
