/** Timers the models use; tests pass a fake. */
export interface IScheduler {
  set(callback: () => void, milliseconds: number): number;
  clear(handle: number): void;
  now(): number;
}

/** The browser's timers. */
export const browserScheduler: IScheduler = {
  set: (callback, milliseconds) => window.setTimeout(callback, milliseconds),
  clear: handle => window.clearTimeout(handle),
  now: () => Date.now()
};

/** The refresh intervals of the run list, in seconds. */
export interface IRefreshIntervals {
  /** While any listed run is active (pending or processing). */
  activeSeconds: number;
  /** The longest interval when nothing is active (the backoff's cap). */
  idleSeconds: number;
}

/**
 * The next refresh delay in seconds: the active interval while runs are active, else twice the previous delay
 * (starting from the active interval) up to the idle cap.
 *
 * @param previous - The previous delay in seconds (0 for the first).
 * @param active - Whether any listed run is active.
 * @param intervals - The configured intervals.
 */
export function nextDelay(
  previous: number,
  active: boolean,
  intervals: IRefreshIntervals
): number {
  const activeSeconds = Math.max(1, intervals.activeSeconds);
  const idleSeconds = Math.max(activeSeconds, intervals.idleSeconds);
  if (active || previous <= 0) {
    return activeSeconds;
  }
  return Math.min(idleSeconds, previous * 2);
}
