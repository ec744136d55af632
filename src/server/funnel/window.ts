import type { FunnelWindow } from './model.ts';

/** How far back a funnel looks when no `since` is given: 7 days. */
export const DEFAULT_FUNNEL_DAYS = 7;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A point in time written as epoch milliseconds, an ISO date (`2026-12-01`, `2026-12-01T08:00Z`), or a duration back
 * from `now` (`30m`, `24h`, `7d`, `2w`); null when `text` is none of them.
 */
export function parseInstant(text: string, now: number): number | null {
  const trimmed = text.trim();
  const duration = /^(\d+)([mhdw])$/.exec(trimmed);
  if (duration) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : at;
}

/** A window from `since` (default 7 days back) to `until` (default `now`), or the text that is not a time. */
export function funnelWindow(since: string | undefined, until: string | undefined, now: number): FunnelWindow | { invalid: string } {
  const from = since === undefined ? now - DEFAULT_FUNNEL_DAYS * UNIT_MS.d! : parseInstant(since, now);
  if (from === null) return { invalid: since! };
  const to = until === undefined ? now : parseInstant(until, now);
  if (to === null) return { invalid: until! };
  return { since: from, until: to };
}
