'use strict';
/** Small statistics the benchmarks report. */

/** The median of a list of numbers (NaN when empty): the middle one, or the mean of the middle two. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

module.exports = { median };
