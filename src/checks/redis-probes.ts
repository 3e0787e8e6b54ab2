import { randomBytes } from 'node:crypto';
import { errorMessage } from './redact';

/** The commands the write probe needs: an ioredis client or cluster client. */
interface KeyValue {
  set(key: string, value: string, px: 'PX', milliseconds: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  del(key: string): Promise<number>;
}

/**
 * Proves writes: SET, GET and DEL of a unique key that expires on its own (the expiry removes it
 * even if the DEL never arrives). `problem` says what went wrong, if anything.
 */
export async function writeRoundTrip(
  client: KeyValue,
  step: <T>(p: Promise<T>) => Promise<T>,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<{ ms: number; problem?: string }> {
  const key = `chatpulse:health:${randomBytes(8).toString('hex')}`;
  const token = randomBytes(8).toString('hex');
  const t0 = performance.now();
  try {
    await step(client.set(key, token, 'PX', Math.max(10_000, timeoutMs * 2)));
    const got = await step(client.get(key));
    await step(client.del(key));
    const ms = performance.now() - t0;
    return got === token ? { ms } : { ms, problem: `GET returned ${got === null ? 'nothing' : 'a different value'} after SET` };
  } catch (err) {
    return { ms: performance.now() - t0, problem: `SET/GET/DEL failed: ${errorMessage(err, secrets)}` };
  }
}

/** `INFO` text to a flat map (sections are irrelevant: field names are unique). */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** A numeric INFO field, or undefined when absent or not a number. */
export function infoNumber(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Memory use from INFO; `utilization` only when a maxmemory is set (0 means no limit). */
export function memoryOf(info: Record<string, string>): { used?: number; max?: number; utilization?: number } {
  const used = infoNumber(info.used_memory);
  const max = infoNumber(info.maxmemory);
  return { used, max, utilization: used !== undefined && max !== undefined && max > 0 ? used / max : undefined };
}
