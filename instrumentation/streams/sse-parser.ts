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
const LINE_END = /[\r\n]/g;

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
    while (pos < n) {
      LINE_END.lastIndex = pos;
      const m = LINE_END.exec(text);
      if (m === null) {
        this.appendPartial(text, pos, n);
        break;
      }
      const end = m.index;
      this.appendPartial(text, pos, end);
      signals |= this.endLine();
      if (text.charCodeAt(end) === 13) {
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

  private endLine(): number {
    const line = this.line;
    this.line = '';
    this.lineTruncated = false;
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58 /* ':' comment */) return 0;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      if (this.data.length < VALUE_PREFIX) {
        this.data += (this.hasData ? '\n' : '') + value.slice(0, VALUE_PREFIX - this.data.length);
      }
      this.hasData = true;
    } else if (field === 'event') {
      this.eventType = value;
    }
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
    if (data === '[DONE]' || data.trim() === '') return 0;
    return SIGNAL_TOKEN;
  }
}

function latin1(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1');
}
