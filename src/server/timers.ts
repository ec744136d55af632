/** The longest delay Node's timers honour (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` bounded to what a Node timer honours; for intervals and sleeps that are re-evaluated when they end. */
export const timerMs = (ms: number) => Math.min(Math.max(0, ms), MAX_TIMER_MS);

/** A timer from `setLongTimeout`. */
export interface LongTimeout {
  clear(): void;
}

/**
 * `setTimeout` for any delay: past `MAX_TIMER_MS` it waits in steps, so a 30-day timer fires
 * after 30 days, not at once. The timer does not keep the process alive.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimeout {
  const due = Date.now() + Math.max(0, ms);
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0) arm(rest);
      else callback();
    }, timerMs(left));
    timer.unref?.();
  };
  arm(ms);
  return { clear: () => clearTimeout(timer) };
}
