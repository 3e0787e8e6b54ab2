/** The words and icons of every status: a status is never shown by colour alone. */
export const STATUS_WORD: Readonly<Record<string, string>> = {
  pass: 'Pass',
  warn: 'Warn',
  fail: 'Fail',
  healthy: 'Healthy',
  degraded: 'Degraded',
  unhealthy: 'Unhealthy',
  unknown: 'Unknown',
  ungraded: 'Not graded',
  missing: 'Missing',
};

// Text presentation selector (U+FE0E) on the warning sign: an emoji would ignore the colour.
export const STATUS_ICON: Readonly<Record<string, string>> = {
  pass: '\u2714',
  healthy: '\u2714',
  warn: '\u26A0\uFE0E',
  degraded: '\u26A0\uFE0E',
  fail: '\u2716',
  unhealthy: '\u2716',
  unknown: '?',
  ungraded: '\u2013',
  missing: '?',
};

export const SEVERITY_ICON: Readonly<Record<string, string>> = { critical: '\u2716', warning: '\u26A0\uFE0E', info: 'i' };

export const word = (status: string): string => STATUS_WORD[status] ?? status;
