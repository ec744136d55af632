/** Milliseconds in a minute, hour and day; automation times are epoch milliseconds (UTC). */
export const MINUTE = 60_000;
/** Milliseconds in an hour. */
export const HOUR = 60 * MINUTE;
/** Milliseconds in a day. */
export const DAY = 24 * HOUR;

/** A duration of `n` minutes in milliseconds. */
export const minutes = (n: number): number => n * MINUTE;
/** A duration of `n` hours in milliseconds. */
export const hours = (n: number): number => n * HOUR;
/** A duration of `n` days in milliseconds. */
export const days = (n: number): number => n * DAY;

/** Where the runner reads the current time; inject a `ManualClock` in tests, never real timers. */
export interface Clock {
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that moves only when told to, for tests and simulations.
 * @example
 * const clock = new ManualClock(Date.UTC(2026, 0, 1));
 * clock.advance(hours(2));
 */
export class ManualClock implements Clock {
  constructor(private current: number = 0) {}
  /** The current time in epoch milliseconds. */
  now(): number {
    return this.current;
  }
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.current += ms;
  }
  /** Sets the clock to an absolute time; it may not go back. */
  set(at: number | Date): void {
    const next = typeof at === 'number' ? at : at.getTime();
    if (next < this.current) throw new RangeError(`ManualClock cannot go back from ${this.current} to ${next}.`);
    this.current = next;
  }
}

/**
 * The first slot of the series `anchor + k·interval` (k ≥ 0) that lies strictly after `now`.
 * Repeat schedules use this so a late run never shifts later runs.
 */
export function nextSlot(anchor: number, interval: number, now: number): number {
  if (anchor > now) return anchor;
  return anchor + (Math.floor((now - anchor) / interval) + 1) * interval;
}

/** The epoch milliseconds of a time given as a number or a Date; null for anything else, NaN, infinities and invalid Dates. */
export function timeOf(value: unknown): number | null {
  const at = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : Number.NaN;
  return Number.isFinite(at) ? at : null;
}

/** Today's `hour:minute` (UTC) on the day of `now`. */
export function timeOfDay(now: number, hour: number, minute: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour, minute);
}
