/**
 * Reads state from the store unless a change this replica applied overtook the read. `version()`
 * is bumped by every such change; a read begun before one is older than what the replica holds,
 * and installing it would undo the change until the next refresh. Such a read is retried; when
 * changes keep coming, the answer is undefined and the caller keeps what it has.
 */
export async function readUnlessOvertaken<T>(version: () => number, read: () => Promise<T>, attempts = 3): Promise<T | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const before = version();
    const value = await read();
    if (before === version()) return value;
  }
  return undefined;
}
