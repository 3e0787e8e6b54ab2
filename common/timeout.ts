/**
 * Waits for `work`, but no longer than `ms`. Resolves true when it settled in time (fulfilled or
 * rejected: a rejection is the caller's to observe on `work` itself), false when the bound ran
 * out first. Never rejects; the timer is unref'd and cleared, so it neither keeps the process
 * alive nor fires late.
 */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}
