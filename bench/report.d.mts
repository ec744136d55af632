import type { Figure } from './areas.mjs';
export interface BenchResults {
  at: string;
  machine: string;
  node: string;
  chromium: string | null;
  figures: Record<string, Figure & { at: string }>;
  plots?: Record<string, { file: string; at: string }>;
  /** Each area run: when, how long, what it measures and the machine it was measured on. */
  areas?: Record<string, { at: string; seconds: number; what: string; machine?: string | null }>;
}
export function renderReport(results: BenchResults): string;
