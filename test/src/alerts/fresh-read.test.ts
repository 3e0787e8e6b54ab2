import { describe, expect, it } from 'vitest';
import { readUnlessOvertaken } from '../../../src/alerts/fresh-read';

describe('readUnlessOvertaken', () => {
  it('returns a read no local change overtook', async () => {
    expect(await readUnlessOvertaken(() => 7, async () => 'rows')).toBe('rows');
  });

  it('retries a read overtaken by a local change, and gives up (undefined) when changes keep coming', async () => {
    let version = 0;
    let reads = 0;
    // The first read is overtaken; the second is not.
    expect(await readUnlessOvertaken(() => version, async () => (reads++ === 0 && version++, `read ${reads}`))).toBe('read 2');
    expect(reads).toBe(2);
    reads = 0;
    expect(await readUnlessOvertaken(() => version, async () => (reads++, version++))).toBeUndefined();
    expect(reads).toBe(3);
  });
});
