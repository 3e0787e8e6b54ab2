/**
 * The wire formats under random splits (seeded; CHATPULSE_FUZZ_SEED replays): each model API
 * stream, with multi-byte UTF-8 in its content, LF or CRLF line ends, fed as strings, Buffers or
 * Uint8Array views cut anywhere (inside a multi-byte character too), must give the same content
 * count and usage as the whole stream, and signal its first content in the write that completes
 * the first content event.
 */
import { describe, expect, it } from 'vitest';
import { aiSdkData } from '../../../../instrumentation/streams/formats/ai-sdk-data';
import { LineParser } from '../../../../instrumentation/streams/line-parser';
import { SseParser } from '../../../../instrumentation/streams/sse-parser';
import { rules } from './helpers';
import { prng } from '../../../helpers/prng';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wire = require('../../../fixtures/stacks/wire.js');

const SEED = Number(process.env.CHATPULSE_FUZZ_SEED ?? 0xf0a7_5eed);

type Kind = 'sse' | 'ndjson' | 'typed';
const FORMATS: [string, (f: number, g: number) => [number, string][], Kind, number][] = [
  // name, stream, framing, index of the first content event among the writes
  ['openai-chat', wire.openaiChat, 'sse', 1],
  ['openai-responses', wire.openaiResponses, 'sse', 4],
  ['anthropic', wire.anthropic, 'sse', 3],
  ['gemini', wire.gemini, 'sse', 0],
  ['ollama', wire.ollama, 'ndjson', 0],
  ['ai-sdk-data', wire.aiSdkData, 'typed', 1],
];
const R = rules();

function parserFor(kind: Kind) {
  return kind === 'sse' ? new SseParser(R) : new LineParser(R, kind === 'typed' ? aiSdkData : undefined, kind === 'typed');
}

describe(`wire formats fuzz (seed ${SEED})`, () => {
  it('random splits, CRLF, Buffers and split UTF-8 give the whole stream\'s answer', () => {
    const rnd = prng(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const words = ['Héllo', ' wörld', ' 😊', ' €5', ' 日本'];
    for (let i = 0; i < 600; i++) {
      const [name, make, kind, firstIndex] = FORMATS[i % FORMATS.length]!;
      const crlf = kind === 'sse' && rnd() < 0.5;
      // The fixtures' words swapped for multi-byte ones (the JSON escapes nothing but quotes).
      let events = make(0, 0).map(([, t]) => t.replace(/Hello|, how| can| I|,/g, (w) => words[(w.length + i) % words.length]!));
      if (crlf) events = events.map((t) => t.replace(/\r?\n/g, '\r\n'));
      const whole = Buffer.from(events.join(''), 'utf8');
      // Where the first content event completes: its last line end (the CR of a CRLF counts).
      const firstEnd = Buffer.byteLength(events.slice(0, firstIndex + 1).join(''), 'utf8') - (crlf ? 2 : 1);

      const ref = parserFor(kind);
      ref.feed(whole);
      const expectContent = ref.content;

      const cuts = Array.from({ length: int(20) }, () => int(whole.length + 1)).sort((a, b) => a - b);
      const p = parserFor(kind);
      let prev = 0;
      let firstWriteEnd = -1;
      let content = 0;
      for (const c of [...cuts, whole.length]) {
        const part = whole.subarray(prev, c);
        const asText = rnd() < 0.3 && !crlf;
        // Text writes only where the cut falls on a character boundary, as a string write would.
        const chunk = asText && Buffer.from(part.toString('utf8'), 'utf8').equals(part) ? part.toString('utf8') : rnd() < 0.5 ? part : Uint8Array.from(part);
        p.feed(chunk);
        if (p.content > 0 && content === 0) firstWriteEnd = c;
        content += p.content;
        p.content = 0;
        prev = c;
      }
      const at = `${name} crlf=${crlf} seed=${SEED} iteration=${i}`;
      expect(content, at).toBe(expectContent);
      expect(content, at).toBe(5);
      expect([p.facts.inputTokens, p.facts.outputTokens], at).toEqual([ref.facts.inputTokens, ref.facts.outputTokens]);
      // The write that carried the first content is the one holding its last line end.
      expect(firstWriteEnd > firstEnd, at).toBe(true);
      const cutBefore = [0, ...cuts].filter((c) => c <= firstEnd).pop()!;
      expect(firstWriteEnd, at).toBe([...cuts, whole.length].find((c) => c > firstEnd && c >= cutBefore));
    }
  });
});
