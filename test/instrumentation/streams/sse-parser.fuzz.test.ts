/**
 * Property tests for the SSE parser with a seeded PRNG (set CHATPULSE_FUZZ_SEED to replay; every
 * failure message carries the seed and iteration):
 *  - arbitrary bytes in arbitrary chunks (strings, Buffers, Uint8Array views, empty writes) never
 *    throw and never grow the parser's retained state;
 *  - for generated valid event streams, feeding random splits gives the same signals (after every
 *    write) and the same error data as feeding the whole stream at once, and both agree with an
 *    independent whole-text reference implementation of the spec;
 *  - fed in whole-event writes with the hook's tokenSeen/audioSeen flags (the in-place and skip
 *    paths), the first-token and first-audio writes, error signals and error data match the reference.
 */
import { describe, expect, it } from 'vitest';
import { SIGNAL_AUDIO, SIGNAL_ERROR, SIGNAL_TOKEN, SseParser, type SseEventClasses } from '../../../instrumentation/streams/sse-parser';
import { prng } from '../../helpers/prng';

const SEED = Number(process.env.CHATPULSE_FUZZ_SEED ?? 0x5eed_c4a7);
const CLASSES: SseEventClasses = {
  audio: new Set(['audio', 'tts']),
  error: new Set(['error']),
  ignored: new Set(['ping', 'heartbeat', 'done']),
};

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Cut points in [0, length], sorted, duplicates allowed (they make empty writes). */
function cuts(rng: Rng, length: number): number[] {
  const n = rng.int(Math.min(12, length + 2));
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.int(length + 1));
  if (rng.chance(0.2)) out.push(out[0] ?? 0); // an extra empty write
  return out.sort((a, b) => a - b);
}

function splitAt<T extends { slice(a: number, b?: number): T }>(whole: T, at: number[], length: number): T[] {
  const parts: T[] = [];
  let prev = 0;
  for (const c of at) {
    parts.push(whole.slice(prev, c));
    prev = c;
  }
  parts.push(whole.slice(prev, length));
  return parts;
}

/** A Buffer, a Uint8Array view into a larger buffer, or a plain Uint8Array copy, at random. */
function asBytes(rng: Rng, b: Buffer): Uint8Array {
  switch (rng.int(3)) {
    case 0:
      return b;
    case 1: {
      const backing = Buffer.alloc(b.length + 8, 0x0a); // newlines around the view must not leak in
      b.copy(backing, 4);
      return new Uint8Array(backing.buffer, backing.byteOffset + 4, b.length);
    }
    default:
      return Uint8Array.from(b);
  }
}

function retained(p: SseParser): number {
  const s = p as unknown as { line: string; data: string; eventType: string };
  return Math.max(s.line.length, s.data.length, s.eventType.length);
}

const where = (iteration: number) => `seed=${SEED} iteration=${iteration} (replay with CHATPULSE_FUZZ_SEED=${SEED})`;

describe(`SSE parser fuzz (seed ${SEED})`, () => {
  it('random bytes in random chunks never throw and never grow the parser', () => {
    const rng = new Rng(SEED);
    const alphabet = [...Buffer.from('\r\n\r\n::  dataevnt[DONE]audioerrorping\uFEFFé€😀'), 0, 0xff, 0x80];
    for (let i = 0; i < 3000; i++) {
      const len = rng.int(rng.chance(0.05) ? 5000 : 300);
      const bytes = Buffer.alloc(len);
      for (let k = 0; k < len; k++) bytes[k] = rng.chance(0.7) ? rng.pick(alphabet) : rng.int(256);
      const p = new SseParser(CLASSES);
      const parts = splitAt(bytes, cuts(rng, len), len);
      try {
        for (const part of parts) {
          const kind = rng.int(3);
          const chunk = kind === 0 ? part.toString('latin1') : kind === 1 ? part.toString('utf8') : asBytes(rng, part);
          const s = p.feed(chunk);
          if (!Number.isInteger(s) || s < 0 || s > (SIGNAL_TOKEN | SIGNAL_AUDIO | SIGNAL_ERROR)) throw new Error(`bad signals ${s}`);
          if (retained(p) > 1100) throw new Error(`retained ${retained(p)} chars`);
        }
      } catch (err) {
        throw new Error(`${where(i)}: ${(err as Error).message}\ninput (base64): ${bytes.toString('base64')}`);
      }
    }
  });

  /** A random, valid event stream with ASCII field/event names and arbitrary payload text. */
  function generateStream(rng: Rng): string {
    const names = ['audio', 'tts', 'error', 'ping', 'heartbeat', 'done', 'message', 'delta', 'Audio', ' audio', 'audio '];
    const payloads = ['[DONE]', '', '{"token":"Hi"}', 'héllo wörld €', '😀🤖', 'a:b: c', ' leading', '{"error":"rate limit"}', 'x'.repeat(40)];
    const eol = () => rng.pick(['\n', '\r\n', '\r']);
    let out = rng.chance(0.1) ? ': stream start' + eol() : '';
    const events = 1 + rng.int(6);
    for (let e = 0; e < events; e++) {
      const lines: string[] = [];
      if (rng.chance(0.5)) lines.push(`event:${rng.chance(0.8) ? ' ' : ''}${rng.pick(names)}`);
      const dataLines = rng.int(4);
      for (let d = 0; d < dataLines; d++) lines.push(`data:${rng.chance(0.8) ? ' ' : ''}${rng.pick(payloads)}`);
      if (rng.chance(0.2)) lines.push(`id: ${rng.int(1000)}`);
      if (rng.chance(0.1)) lines.push('retry: 3000');
      if (rng.chance(0.15)) lines.push(': comment');
      if (rng.chance(0.05)) lines.push('unknown: field');
      // Shuffle lightly: field order within an event does not matter to the result.
      if (rng.chance(0.3)) lines.reverse();
      for (const l of lines) out += l + eol();
      out += eol();
    }
    return out;
  }

  /** Independent reference: the spec's line splitting and dispatch over a whole text. */
  function reference(text: string): { signals: number; errorData: string | undefined } {
    const lines = text.split(/\r\n|\r|\n/);
    lines.pop(); // the incomplete last line
    let signals = 0;
    let type = '';
    let data: string[] | undefined;
    let errorData: string | undefined;
    for (const line of lines) {
      if (line === '') {
        if (data !== undefined) {
          const joined = data.join('\n');
          if (CLASSES.audio.has(type)) signals |= SIGNAL_AUDIO;
          else if (CLASSES.error.has(type)) {
            signals |= SIGNAL_ERROR;
            errorData ??= joined;
          } else if (!CLASSES.ignored.has(type) && joined !== '[DONE]' && joined.trim() !== '') signals |= SIGNAL_TOKEN;
        }
        type = '';
        data = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') (data ??= []).push(value);
      else if (field === 'event') type = value;
    }
    return { signals, errorData };
  }

  it('valid event streams: random splits give the same signals as the whole stream and the reference', () => {
    const rng = new Rng(SEED ^ 0x9e3779b9);
    for (let i = 0; i < 2000; i++) {
      const text = generateStream(rng);
      const whole = new SseParser(CLASSES);
      const wholeSignals = whole.feed(text);
      const ref = reference(text);
      const ctx = `${where(i)}\nstream: ${JSON.stringify(text)}`;
      expect(wholeSignals, `whole vs reference; ${ctx}`).toBe(ref.signals);
      expect(whole.errorData, `whole errorData vs reference; ${ctx}`).toBe(ref.errorData);

      // As strings split at random code units: the signals so far match the reference on the
      // prefix after every write (so each event is reported by the write that completes it).
      const at = cuts(rng, text.length);
      const parts = splitAt(text, at, text.length);
      const split = new SseParser(CLASSES);
      let acc = 0;
      let prefix = '';
      for (const part of parts) {
        acc |= split.feed(part);
        prefix += part;
        expect(acc, `string split ${JSON.stringify(at)} after ${prefix.length} chars; ${ctx}`).toBe(reference(prefix).signals);
      }
      expect(split.errorData, `string split errorData; ${ctx}`).toBe(whole.errorData);

      // As bytes split at random byte offsets (inside multi-byte characters too), mixed with
      // latin1 strings of the same bytes: same signals and error data as the whole as bytes.
      const bytes = Buffer.from(text, 'utf8');
      const wholeBytes = new SseParser(CLASSES);
      const wholeBytesSignals = wholeBytes.feed(bytes);
      expect(wholeBytesSignals, `bytes whole; ${ctx}`).toBe(wholeSignals);
      const byteCuts = cuts(rng, bytes.length);
      const byteParser = new SseParser(CLASSES);
      let byteAcc = 0;
      for (const part of splitAt(bytes, byteCuts, bytes.length)) {
        byteAcc |= byteParser.feed(rng.chance(0.2) ? part.toString('latin1') : asBytes(rng, part));
      }
      expect(byteAcc, `byte split ${JSON.stringify(byteCuts)}; ${ctx}`).toBe(wholeBytesSignals);
      expect(byteParser.errorData, `byte split errorData; ${ctx}`).toBe(wholeBytes.errorData);

      // As the HTTP hook feeds it: once a token was seen, the parser may skip chunks that cannot
      // hold an audio or error event; audio and error signals (and error data) must not change.
      // LF-only too, where the fast path applies most (it leaves chunks with CR to the full parse).
      for (const t of [text, text.replace(/\r\n?/g, '\n')]) {
        const r = reference(t);
        const fast = new SseParser(CLASSES);
        let fastAcc = 0;
        for (const part of splitAt(t, cuts(rng, t.length), t.length)) fastAcc |= fast.feed(part, (fastAcc & SIGNAL_TOKEN) !== 0);
        const named = SIGNAL_AUDIO | SIGNAL_ERROR;
        const c = `${where(i)}\nstream: ${JSON.stringify(t)}`;
        expect(fastAcc & named, `token-seen fast path; ${c}`).toBe(r.signals & named);
        expect(fastAcc & SIGNAL_TOKEN, `token-seen fast path, token; ${c}`).toBe(r.signals & SIGNAL_TOKEN);
        expect(fast.errorData, `token-seen fast path errorData; ${c}`).toBe(r.errorData);
      }
    }
  });
  it('whole-event writes fed as the HTTP hook does: first token, first audio and errors match the reference', () => {
    const rng = new Rng(SEED ^ 0x51ed270b);
    for (let i = 0; i < 2000; i++) {
      // Servers write whole events, one or several per write, LF-terminated (CRLF sometimes).
      let text = generateStream(rng).replace(/\r\n?/g, '\n');
      if (rng.chance(0.2)) text = text.replace(/\n/g, '\r\n');
      const ends: number[] = [];
      for (let k = text.indexOf('\n\n'); k !== -1; k = text.indexOf('\n\n', k + 1)) ends.push(k + 2);
      for (let k = text.indexOf('\r\n\r\n'); k !== -1; k = text.indexOf('\r\n\r\n', k + 1)) ends.push(k + 4);
      const at = [...new Set(ends.filter((e) => e < text.length && rng.chance(0.7)))].sort((a, b) => a - b);
      const parts = splitAt(text, at, text.length);
      // As Buffers the parser reads bytes as latin1 (error data too): compare with the reference on that text.
      const bytes = rng.chance(0.3);
      const asRef = (t: string) => (bytes ? Buffer.from(t, 'utf8').toString('latin1') : t);
      const p = new SseParser(CLASSES);
      let firstToken = -1;
      let firstAudio = -1;
      let errors = 0;
      let prefix = '';
      const refFirst = { token: -1, audio: -1 };
      parts.forEach((part, w) => {
        const s = p.feed(bytes ? Buffer.from(part, 'utf8') : part, firstToken !== -1, firstAudio !== -1);
        if (s & SIGNAL_TOKEN && firstToken === -1) firstToken = w;
        if (s & SIGNAL_AUDIO && firstAudio === -1) firstAudio = w;
        errors |= s & SIGNAL_ERROR;
        prefix += part;
        const r = reference(asRef(prefix));
        if (r.signals & SIGNAL_TOKEN && refFirst.token === -1) refFirst.token = w;
        if (r.signals & SIGNAL_AUDIO && refFirst.audio === -1) refFirst.audio = w;
        const c = `${where(i)} write ${w}\nwrites: ${JSON.stringify(parts)}`;
        expect(errors, `error signal; ${c}`).toBe(r.signals & SIGNAL_ERROR);
        expect(p.errorData, `errorData; ${c}`).toBe(r.errorData);
      });
      const c = `${where(i)}\nwrites: ${JSON.stringify(parts)}`;
      expect(firstToken, `first token write; ${c}`).toBe(refFirst.token);
      expect(firstAudio, `first audio write; ${c}`).toBe(refFirst.audio);
    }
  });
});
