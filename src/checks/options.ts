/**
 * Defaults merged under user options. `undefined` values are dropped first, so `{ timeoutMs:
 * undefined }` (common when options come from optional config) keeps the default.
 */
export function withDefaults<D extends object, G extends object>(defaults: D, given: G): D & G {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...defaults, ...defined } as D & G;
}

/** Rejects a non-positive or non-finite duration at construction time rather than at the first run. */
export function positive(label: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${label} must be a positive number, got ${value}`);
  return value;
}
