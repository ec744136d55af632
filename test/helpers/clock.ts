import type { TaskClock } from '../../src/core/index.ts';

/** A clock whose time only moves when the test says so; timers fire on `advance`. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; run: () => void }>();
  const clock: TaskClock & { advance(ms: number): Promise<void>; pending(): number } = {
    now: () => now,
    setTimeout(run, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, run });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at <= now) {
          timers.delete(id);
          timer.run();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    pending: () => timers.size,
  };
  return clock;
}
