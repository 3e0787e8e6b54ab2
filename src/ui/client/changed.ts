/**
 * Re-renders a section only when its data changed, so focus and scroll stay put between the
 * snapshots that arrive at every evaluation.
 */
const rendered = new Map<string, string>();

export function changed(key: string, value: unknown): boolean {
  const s = JSON.stringify(value);
  if (rendered.get(key) === s) return false;
  rendered.set(key, s);
  return true;
}
