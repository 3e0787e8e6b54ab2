/**
 * The incremental SSE parser against the WHATWG event-stream rules it relies on: which events
 * carry tokens, audio or errors, whatever the line endings and however the bytes are chunked.
 */
import { describe, expect, it } from 'vitest';
import { SIGNAL_AUDIO, SIGNAL_ERROR, SIGNAL_TOKEN, SseParser, type SseEventClasses } from '../../../instrumentation/streams/sse-parser';
import { resolveConfig } from '../../../instrumentation/config/env';

const DEFAULT_CLASSES: SseEventClasses = resolveConfig({}).config.sse;

type Chunk = string | Uint8Array;

function parser(classes: SseEventClasses = DEFAULT_CLASSES): SseParser {
  return new SseParser(classes);
}

/** Feeds the chunks in order and returns the OR of the signals, plus each chunk's signals. */
function feed(chunks: Chunk[], p = parser()): { signals: number; each: number[]; parser: SseParser } {
  const each = chunks.map((c) => p.feed(c));
  return { signals: each.reduce((a, b) => a | b, 0), each, parser: p };
}

const signalsOf = (...chunks: Chunk[]) => feed(chunks).signals;

/** Internal retained state, for the memory-bound checks. */
function retained(p: SseParser): { line: number; data: number; eventType: number } {
  const s = p as unknown as { line: string; data: string; eventType: string };
  return { line: s.line.length, data: s.data.length, eventType: s.eventType.length };
}

const ENDINGS = { LF: '\n', CRLF: '\r\n', CR: '\r' } as const;

describe('SSE parser: event classification', () => {
  for (const [label, nl] of Object.entries(ENDINGS)) {
    describe(`line ends ${label}`, () => {
      const ev = (...lines: string[]) => lines.map((l) => l + nl).join('') + nl;

      it('a data event is a token', () => {
        expect(signalsOf(ev('data: {"token":"Hi"}'))).toBe(SIGNAL_TOKEN);
        expect(signalsOf(ev('data:no-space'))).toBe(SIGNAL_TOKEN);
      });

      it('comments and keepalive comments carry nothing, and do not break an event', () => {
        expect(signalsOf(ev(': keepalive'))).toBe(0);
        expect(signalsOf(`:${nl}`, `:${nl}${nl}`)).toBe(0);
        expect(signalsOf(ev(': before', 'data: x', ': after'))).toBe(SIGNAL_TOKEN);
      });

      it('ignored event names (ping, heartbeat, keepalive, done, …) are not tokens', () => {
        for (const name of DEFAULT_CLASSES.ignored) {
          expect(signalsOf(ev(`event: ${name}`, 'data: {}')), name).toBe(0);
        }
      });

      it('audio events signal audio, error events signal an error and keep its data', () => {
        expect(signalsOf(ev('event: audio', 'data: UklGRiQAAABXQVZF'))).toBe(SIGNAL_AUDIO);
        const { signals, parser: p } = feed([ev('event: error', 'data: {"error":"rate limit exceeded"}')]);
        expect(signals).toBe(SIGNAL_ERROR);
        expect(p.errorData).toBe('{"error":"rate limit exceeded"}');
        // The first error's data is kept.
        p.feed(ev('event: error', 'data: second'));
        expect(p.errorData).toBe('{"error":"rate limit exceeded"}');
      });

      it('configured event-name sets are honoured', () => {
        const classes: SseEventClasses = { audio: new Set(['tts_chunk']), error: new Set(['failure']), ignored: new Set(['tick']) };
        const s = (text: string) => feed([text], parser(classes)).signals;
        expect(s(ev('event: tts_chunk', 'data: x'))).toBe(SIGNAL_AUDIO);
        expect(s(ev('event: failure', 'data: x'))).toBe(SIGNAL_ERROR);
        expect(s(ev('event: tick', 'data: x'))).toBe(0);
        // Names outside the configured sets are ordinary token events.
        expect(s(ev('event: audio', 'data: x'))).toBe(SIGNAL_TOKEN);
        expect(s(ev('event: ping', 'data: x'))).toBe(SIGNAL_TOKEN);
      });

      it('data: [DONE] is not a token (OpenAI end sentinel); other data around it is', () => {
        expect(signalsOf(ev('data: [DONE]'))).toBe(0);
        expect(signalsOf(ev('data:[DONE]'))).toBe(0);
        expect(signalsOf(ev('data: [DONE]', 'data: more'))).toBe(SIGNAL_TOKEN);
      });

      it('an event without data lines is not dispatched', () => {
        expect(signalsOf(ev('event: message'))).toBe(0);
        expect(signalsOf(ev('id: 42', 'retry: 1000'))).toBe(0);
        expect(signalsOf(ev('event: audio'))).toBe(0);
        expect(signalsOf(ev('event: error'))).toBe(0);
        expect(signalsOf(nl + nl + nl)).toBe(0);
      });

      it('an event is dispatched only at its blank line', () => {
        const p = parser();
        expect(p.feed(`data: x${nl}`)).toBe(0);
        expect(p.feed(nl)).toBe(SIGNAL_TOKEN);
      });

      it('the event type applies to the whole event and resets after dispatch', () => {
        expect(signalsOf(ev('data: chunk', 'event: audio'))).toBe(SIGNAL_AUDIO);
        const p = parser();
        expect(p.feed(ev('event: audio', 'data: a'))).toBe(SIGNAL_AUDIO);
        expect(p.feed(ev('data: t'))).toBe(SIGNAL_TOKEN);
        // An event with no data still resets the type.
        expect(p.feed(ev('event: audio') + ev('data: t'))).toBe(SIGNAL_TOKEN);
      });

      it('field names are case-sensitive and only one leading space is removed', () => {
        expect(signalsOf(ev('Data: x'))).toBe(0);
        expect(signalsOf(ev('Event: audio', 'data: x'))).toBe(SIGNAL_TOKEN);
        expect(signalsOf(ev('event:audio', 'data: x'))).toBe(SIGNAL_AUDIO);
        expect(signalsOf(ev('event:  audio', 'data: x'))).toBe(SIGNAL_TOKEN);
        expect(signalsOf(ev('event', 'data: x'))).toBe(SIGNAL_TOKEN);
      });

      it('several events in one write', () => {
        const text = ev(': hi') + ev('data: a') + ev('event: audio', 'data: b') + ev('event: ping', 'data: {}') + ev('event: error', 'data: boom');
        expect(signalsOf(text)).toBe(SIGNAL_TOKEN | SIGNAL_AUDIO | SIGNAL_ERROR);
      });
    });
  }

  it('mixed line endings in one stream', () => {
    expect(signalsOf('event: audio\r\ndata: a\n\r', 'data: t\r\r\n')).toBe(SIGNAL_AUDIO | SIGNAL_TOKEN);
    const p = parser();
    expect(p.feed('event: audio\r\ndata: a\r\n\n')).toBe(SIGNAL_AUDIO);
    expect(p.feed('data: t\r\r')).toBe(SIGNAL_TOKEN);
  });

  it('a leading byte-order mark is stripped (spec: UTF-8 decode drops one BOM)', () => {
    expect(signalsOf('\uFEFFdata: first\n\n')).toBe(SIGNAL_TOKEN);
    expect(signalsOf(Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('data: first\n\n')]))).toBe(SIGNAL_TOKEN);
  });
});

describe('SSE parser: chunking', () => {
  it('CRLF split across writes: the LF is not an extra (event-ending) blank line', () => {
    // Were the LF taken as a blank line, `event: audio` would be dispatched alone and reset,
    // and the data would count as a token instead of audio.
    expect(signalsOf('event: audio\r', '\ndata: a\r\n\r\n')).toBe(SIGNAL_AUDIO);
    expect(signalsOf('event: audio\r', '\n', 'data: a\r', '\n', '\r', '\n')).toBe(SIGNAL_AUDIO);
    const p = parser();
    expect(p.feed('data: a\r\n\r')).toBe(SIGNAL_TOKEN);
    expect(p.feed('\n')).toBe(0);
    expect(p.feed('data: b\r\n\r\n')).toBe(SIGNAL_TOKEN);
  });

  it('CRLF split across writes with empty writes in between', () => {
    expect(signalsOf('event: audio\r', '', '\ndata: a\r\n\r\n')).toBe(SIGNAL_AUDIO);
    expect(signalsOf('event: audio\r', Buffer.alloc(0), new Uint8Array(0), '\ndata: a\r\n\r\n')).toBe(SIGNAL_AUDIO);
  });

  it('a CR at the end of a write followed by a non-LF write', () => {
    expect(signalsOf('event: audio\r', 'data: a\r', '\r')).toBe(SIGNAL_AUDIO);
  });

  it('one event split at every possible point, into two and into three writes, gives the same signal', () => {
    const streams: [string, number][] = [
      ['event: audio\r\ndata: UklGR\r\n\r\n', SIGNAL_AUDIO],
      ['event: error\ndata: {"e":1}\n\n', SIGNAL_ERROR],
      ['data: [DONE]\r\n\r\n', 0],
      ['event: ping\rdata: {}\r\r', 0],
      [': c\r\nid: 1\r\ndata: tok\r\n\r\n', SIGNAL_TOKEN],
    ];
    for (const [text, expected] of streams) {
      expect(signalsOf(text), JSON.stringify(text)).toBe(expected);
      for (let i = 0; i <= text.length; i++) {
        expect(signalsOf(text.slice(0, i), text.slice(i)), `${JSON.stringify(text)} split at ${i}`).toBe(expected);
        for (let j = i; j <= text.length; j++) {
          expect(signalsOf(text.slice(0, i), text.slice(i, j), text.slice(j)), `${JSON.stringify(text)} split at ${i},${j}`).toBe(expected);
        }
      }
      expect(signalsOf(...text.split('')), `${JSON.stringify(text)} one char per write`).toBe(expected);
    }
  });

  it('the signal is reported by the write that completes the event', () => {
    const text = 'data: a\n\nevent: audio\ndata: b\n\n';
    const blank1 = text.indexOf('\n\n') + 1;
    const { each } = feed([text.slice(0, blank1), text.slice(blank1, blank1 + 1), text.slice(blank1 + 1, -1), text.slice(-1)]);
    expect(each).toEqual([0, SIGNAL_TOKEN, 0, SIGNAL_AUDIO]);
  });

  it('Buffers and Uint8Arrays (including views into a larger buffer) parse like strings', () => {
    const text = 'event: audio\r\ndata: a\r\n\r\ndata: t\n\nevent: error\ndata: {"error":"timeout"}\n\n';
    const expected = SIGNAL_AUDIO | SIGNAL_TOKEN | SIGNAL_ERROR;
    expect(signalsOf(Buffer.from(text))).toBe(expected);
    expect(signalsOf(new TextEncoder().encode(text))).toBe(expected);
    // A view with an offset: only its own bytes count.
    const backing = Buffer.from(`XXXX\n\n${text}YYYY`);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 6, Buffer.byteLength(text));
    const r = feed([view]);
    expect(r.signals).toBe(expected);
    expect(r.parser.errorData).toBe('{"error":"timeout"}');
    // Mixed types in one stream, split mid-line.
    expect(signalsOf('event: au', Buffer.from('dio\r'), new TextEncoder().encode('\ndata: a\r\n\r\n'))).toBe(SIGNAL_AUDIO);
  });

  it('multi-byte UTF-8 split inside a Buffer, at every byte, changes nothing', () => {
    const text = 'event: audio\ndata: héllo wörld € 😀\n\ndata: ünïcödé 🤖\n\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      expect(signalsOf(bytes.subarray(0, i), bytes.subarray(i)), `split at byte ${i}`).toBe(SIGNAL_AUDIO | SIGNAL_TOKEN);
    }
    expect(signalsOf(...[...bytes].map((b) => Uint8Array.of(b)))).toBe(SIGNAL_AUDIO | SIGNAL_TOKEN);
  });

  it('error data with non-ASCII text keeps the ASCII words a classifier looks for', () => {
    const bytes = Buffer.from('event: error\ndata: {"error":"Zeitüberschreitung: timeout ⏱"}\n\n');
    const r = feed([bytes.subarray(0, 30), bytes.subarray(30)]);
    expect(r.signals).toBe(SIGNAL_ERROR);
    expect(r.parser.errorData).toContain('timeout');
  });
});

describe('SSE parser: memory stays bounded', () => {
  const FIVE_MB = 5 * 1024 * 1024;

  it('a 5 MB data line in 64 KiB writes: retained strings stay small, the event still counts', () => {
    const p = parser();
    const piece = 'x'.repeat(64 * 1024);
    let signals = p.feed('data: ');
    let max = { line: 0, data: 0 };
    for (let sent = 0; sent < FIVE_MB; sent += piece.length) {
      signals |= p.feed(piece);
      const r = retained(p);
      max = { line: Math.max(max.line, r.line), data: Math.max(max.data, r.data) };
    }
    expect(max.line).toBeLessThanOrEqual(1024);
    signals |= p.feed('\n');
    expect(retained(p).data).toBeLessThanOrEqual(1024);
    expect(retained(p).line).toBe(0);
    signals |= p.feed('\n');
    expect(signals).toBe(SIGNAL_TOKEN);
    expect(retained(p)).toEqual({ line: 0, data: 0, eventType: 0 });
  });

  it('a 5 MB data line in one write, as a string and as a Buffer', () => {
    for (const chunk of ['data: ' + 'y'.repeat(FIVE_MB), Buffer.alloc(FIVE_MB, 'z')]) {
      const p = parser();
      if (typeof chunk !== 'string') p.feed('data: ');
      expect(p.feed(chunk)).toBe(0);
      expect(retained(p).line).toBeLessThanOrEqual(1024);
      expect(p.feed('\n\n')).toBe(SIGNAL_TOKEN);
    }
  });

  it('a 5 MB error payload keeps only a bounded prefix as errorData', () => {
    const p = parser();
    const big = 'timeout '.repeat(FIVE_MB / 8);
    expect(p.feed(`event: error\ndata: ${big}\ndata: ${big}\n\n`)).toBe(SIGNAL_ERROR);
    expect(p.errorData!.length).toBeLessThanOrEqual(1024);
    expect(p.errorData!.startsWith('timeout timeout')).toBe(true);
  });

  it('a 5 MB event name or unknown field does not grow the parser', () => {
    const p = parser();
    p.feed('event: ' + 'a'.repeat(FIVE_MB) + '\n');
    expect(retained(p).eventType).toBeLessThanOrEqual(1024);
    p.feed('x-field: ' + 'b'.repeat(FIVE_MB));
    expect(retained(p).line).toBeLessThanOrEqual(1024);
    expect(p.feed('\ndata: t\n\n')).toBe(SIGNAL_TOKEN);
  });
});
