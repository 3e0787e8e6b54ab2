/**
 * Defaults merged under user options. `undefined` values are dropped first, so `{ timeoutMs:
 * undefined }` (common when options come from optional config) keeps the default.
 */
function withDefaults<D extends object, G extends object>(defaults: D, given: G): D & G {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...defaults, ...defined } as D & G;
}

/**
 * A check's options over its defaults, with the schedule validated at construction (the label
 * names the check in the error, e.g. `redisCheck: timeoutMs must be a positive number`).
 */
export function checkOptions<D extends { intervalMs: number; timeoutMs: number }, G extends object>(label: string, defaults: D, given: G): D & G {
  const o = withDefaults(defaults, given);
  positive(`${label}: intervalMs`, o.intervalMs);
  positive(`${label}: timeoutMs`, o.timeoutMs);
  return o;
}

/** Rejects a non-positive or non-finite duration at construction time rather than at the first run. */
function positive(label: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${label} must be a positive number, got ${value}`);
  return value;
}
