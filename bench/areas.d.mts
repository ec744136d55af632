export interface Figure {
  value: number | null;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  goal: string;
  met: boolean | null;
  [extra: string]: unknown;
}
export function figure(value: number | null | undefined, unit: string, options?: { baseline?: number | null; ratio?: number | null; goal?: string; met?: boolean | null; [extra: string]: unknown }): Figure;
export const AREAS: Record<string, { script: string; what: string; nodeArgs?: string[] }>;
