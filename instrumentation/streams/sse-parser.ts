/**
 * Incremental Server-Sent Events parser (WHATWG "event stream interpretation"), reduced to what
 * the metrics need: which events carry tokens, audio or errors. It keeps only a bounded prefix of
 * the current line, so a multi-megabyte `data:` line costs a native scan and no memory.
 */

export const SIGNAL_TOKEN = 1;
export const SIGNAL_AUDIO = 2;
export const SIGNAL_ERROR = 4;

export interface SseEventClasses {
  /** Event names whose data is audio (default `audio`). */
  readonly audio: ReadonlySet<string>;
  /** Event names that report an error (default `error`). */
  readonly error: ReadonlySet<string>;
  /** Event names that are neither tokens nor audio (keepalives, control events). */
  readonly ignored: ReadonlySet<string>;
}

/** How much of a line's value is kept: enough to classify an error payload. */
const VALUE_PREFIX = 512;
/** Longest field name the spec cares about is "retry"/"event"; keep a little slack. */
const LINE_PREFIX = VALUE_PREFIX + 16;

export class SseParser {
  /** Data prefix of the first error event seen, for classification. */
  errorData: string | undefined;

  private readonly classes: SseEventClasses;
  private line = '';
  private lineTruncated = false;
  private afterCR = false;
  private started = false;
  private eventType = '';
  private hasData = false;
  private data = '';

  constructor(classes: SseEventClasses) {
    this.classes = classes;
  }

  /**
   * Feeds one written chunk and returns the SIGNAL_* bits of the events it completed. With
   * `tokenSeen`, token events no longer matter, and a chunk that cannot start or complete a named
   * event (no `event` in it, whole lines, no CR) is only scanned for where its events end.
   */
  feed(chunk: string | Uint8Array, tokenSeen = false): number {
    const text = typeof chunk === 'string' ? chunk : latin1(chunk);
    if (tokenSeen && this.started && this.skippable(text)) return 0;
    let signals = 0;
    let pos = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      // A leading byte-order mark is dropped by UTF-8 decoding (as text, or as latin1 bytes).
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
      else if (text.startsWith('\u00ef\u00bb\u00bf')) pos = 3;
    }
    if (this.afterCR && text.length > pos) {
      this.afterCR = false;
      // CRLF split across writes: the LF belongs to the CR already handled.
      if (text.charCodeAt(pos) === 10) pos += 1;
    }
    const n = text.length;
    // Next CR at or after pos (n when none): most streams use LF only and never pay for CR.
    let cr = text.indexOf('\r', pos);
    if (cr === -1) cr = n;
    while (pos < n) {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = n;
      if (cr < pos) {
        cr = text.indexOf('\r', pos);
        if (cr === -1) cr = n;
      }
      if (cr < end) end = cr;
      if (end === n) {
        this.appendPartial(text, pos, n);
        break;
      }
      if (this.line === '' && !this.lineTruncated) {
        // The whole line is in this chunk: read it in place, no copy.
        signals |= this.fieldLine(text, pos, end);
      } else {
        this.appendPartial(text, pos, end);
        const line = this.line;
        this.line = '';
        this.lineTruncated = false;
        signals |= this.fieldLine(line, 0, line.length);
      }
      if (end === cr) {
        if (end + 1 < n) pos = text.charCodeAt(end + 1) === 10 ? end + 2 : end + 1;
        else {
          this.afterCR = true;
          pos = n;
        }
      } else pos = end + 1;
    }
    return signals;
  }

  private skippable(text: string): boolean {
    const n = text.length;
    if (n === 0 || this.line !== '' || this.afterCR || this.eventType !== '') return false;
    if (text.charCodeAt(n - 1) !== 10 || text.indexOf('event') !== -1 || text.indexOf('\r') !== -1) return false;
    // Events that end in this chunk dispatch tokens only; keep what the event still open needs.
    const blank = text.lastIndexOf('\n\n');
    const openFrom = blank !== -1 ? blank + 2 : text.charCodeAt(0) === 10 ? 1 : -1;
    if (openFrom !== -1) {
      this.hasData = false;
      this.data = '';
    }
    if (text.indexOf('data', Math.max(0, openFrom)) !== -1) this.hasData = true;
    return true;
  }

  private appendPartial(text: string, from: number, to: number): void {
    if (from >= to || this.lineTruncated) return;
    const room = LINE_PREFIX - this.line.length;
    if (to - from > room) {
      this.line += text.slice(from, from + room);
      this.lineTruncated = true;
    } else this.line += from === 0 && to === text.length ? text : text.slice(from, to);
  }

  /** One complete line, text[start, end): a blank line dispatches; `data` and `event` are kept. */
  private fieldLine(text: string, start: number, end: number): number {
    if (start === end) return this.dispatch();
    const c0 = text.charCodeAt(start);
    if (c0 === 58 /* ':' comment */) return 0;
    // Only `data` and `event` matter here; `id`, `retry` and unknown fields are ignored.
    let valueStart: number;
    if (c0 === 100 /* d */ && text.startsWith('data', start) && (end === start + 4 || text.charCodeAt(start + 4) === 58)) {
      valueStart = start + 5;
    } else if (c0 === 101 /* e */ && text.startsWith('event', start) && (end === start + 5 || text.charCodeAt(start + 5) === 58)) {
      valueStart = start + 6;
    } else return 0;
    if (valueStart > end) valueStart = end;
    else if (text.charCodeAt(valueStart) === 32 && valueStart < end) valueStart++;
    if (c0 === 101) {
      this.eventType = text.slice(valueStart, Math.min(end, valueStart + VALUE_PREFIX));
      return 0;
    }
    if (this.data.length < VALUE_PREFIX) {
      const value = text.slice(valueStart, Math.min(end, valueStart + VALUE_PREFIX - this.data.length));
      this.data = this.hasData ? `${this.data}\n${value}` : value;
    }
    this.hasData = true;
    return 0;
  }

  private dispatch(): number {
    const type = this.eventType;
    const hasData = this.hasData;
    const data = this.data;
    this.eventType = '';
    this.hasData = false;
    this.data = '';
    // The spec drops events with an empty data buffer; so do we.
    if (!hasData) return 0;
    const c = this.classes;
    if (type !== '' && c.audio.has(type)) return SIGNAL_AUDIO;
    if (type !== '' && c.error.has(type)) {
      this.errorData ??= data;
      return SIGNAL_ERROR;
    }
    if (type !== '' && c.ignored.has(type)) return 0;
    // OpenAI-style end-of-stream sentinel, and empty keepalive events, are not tokens.
    if (data === '[DONE]' || isBlank(data)) return 0;
    return SIGNAL_TOKEN;
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

function latin1(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1');
}
