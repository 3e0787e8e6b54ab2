import { resolveConfig, type Env } from '../../../../instrumentation/config/env';
import { StreamRules } from '../../../../instrumentation/streams/formats/rules';
import { SseParser } from '../../../../instrumentation/streams/sse-parser';
import { LineParser } from '../../../../instrumentation/streams/line-parser';
import type { PayloadFormat } from '../../../../instrumentation/streams/formats/frame';

export function rules(env: Env = {}): StreamRules {
  return new StreamRules(resolveConfig(env).config.sse);
}

export interface Run {
  /** Index of the write that carried the first content (-1: none). */
  firstContent: number;
  /** Content events over the whole stream. */
  content: number;
  signals: number;
  input: number;
  output: number;
  errorType: string | undefined;
}

/** Feeds the writes to an SSE (or line) parser as the hook does, and sums up what it reported. */
export function feed(writes: readonly (string | Uint8Array)[], opts: { env?: Env; format?: PayloadFormat; lines?: 'ndjson' | 'typed' } = {}): Run {
  const r = rules(opts.env);
  const p = opts.lines ? new LineParser(r, opts.format, opts.lines === 'typed') : new SseParser(r, opts.format);
  let firstContent = -1;
  let content = 0;
  let signals = 0;
  writes.forEach((w, i) => {
    const s = p.feed(w);
    signals |= s;
    if (p.content > 0 && firstContent === -1) firstContent = i;
    content += p.content;
    p.content = 0;
  });
  return { firstContent, content, signals, input: p.facts.inputTokens, output: p.facts.outputTokens, errorType: p.facts.errorType };
}

/** The texts of a wire.js timeline. */
export function texts(steps: readonly (readonly [number, string])[]): string[] {
  return steps.map((s) => s[1]);
}
