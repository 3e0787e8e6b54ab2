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
  private readonly errorNames: readonly string[];
  private line = '';
  private lineTruncated = false;
  private afterCR = false;
  private started = false;
  private eventType = '';
  private hasData = false;
  private data = '';
  /** Between events with nothing pending (no partial line, no CR, no event type or data yet). */
  private atBoundary = false;

  constructor(classes: SseEventClasses) {
    this.classes = classes;
    this.errorNames = errorNamesOf(classes);
  }

  /**
   * Feeds one written chunk and returns the SIGNAL_* bits of the events it completed.
   *
   * `tokenSeen` and `audioSeen` say which first signals the caller already has: once both are in,
   * only error events matter. The usual writes of a running stream are whole events (the parser is
   * between events and the chunk ends with a blank line): those that cannot hold a signal still
   * wanted are skipped after one scan (no `event` field, or no error event name, in them), and a
   * single `[event: NAME LF] data: VALUE LF LF` event is read in place; anything else gets the full
   * parse.
   */
  feed(chunk: string | Uint8Array, tokenSeen = false, audioSeen = false): number {
    if (this.atBoundary || !this.started) {
      if (typeof chunk === 'string') {
        const n = chunk.length;
        if (n >= 2 && chunk.charCodeAt(n - 1) === 10 && chunk.charCodeAt(n - 2) === 10) {
          if (tokenSeen && this.started && !this.mayHold(chunk, audioSeen)) return 0;
          const signals = this.singleEvent(chunk);
          if (signals !== -1) {
            this.started = true;
            this.atBoundary = true;
            return signals;
          }
        }
      } else if (tokenSeen && this.started && Buffer.isBuffer(chunk)) {
        // Decided without decoding the Buffer.
        const n = chunk.length;
        if (n >= 2 && chunk[n - 1] === 10 && chunk[n - 2] === 10 && !this.mayHold(chunk, audioSeen)) return 0;
      }
    }
    const text = typeof chunk === 'string' ? chunk : latin1(chunk);
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
    this.atBoundary = this.started && this.line === '' && !this.lineTruncated && !this.afterCR && this.eventType === '' && !this.hasData;
    return signals;
  }

  /**
   * Whether a chunk of whole events may hold a signal the caller still wants: a named event (audio
   * or error) while audio is missing, an error event once it is not. False positives only cost the
   * full parse.
   */
  private mayHold(chunk: string | Buffer, audioSeen: boolean): boolean {
    if (!audioSeen) return chunk.indexOf('event') !== -1;
    const names = this.errorNames;
    for (let i = 0; i < names.length; i++) if (chunk.indexOf(names[i]!) !== -1) return true;
    return false;
  }

  /**
   * The signals of a chunk that is exactly one event with one optional `event` line and one
   * `data` line (LF only), read in place; -1 for any other shape. Same result as the full parse.
   */
  private singleEvent(text: string): number {
    if (text.indexOf('\r') !== -1) return -1;
    let pos = 0;
    let type = '';
    if (text.charCodeAt(0) === 101 /* e */) {
      if (!text.startsWith('event:')) return -1;
      const lf = text.indexOf('\n');
      let v = 6;
      if (v < lf && text.charCodeAt(v) === 32) v++;
      type = text.slice(v, Math.min(lf, v + VALUE_PREFIX));
      pos = lf + 1;
    }
    if (!text.startsWith('data:', pos)) return -1;
    const end = text.indexOf('\n', pos);
    // One data line, then the blank line that ends the chunk.
    if (end !== text.length - 2) return -1;
    let v = pos + 5;
    if (v < end && text.charCodeAt(v) === 32) v++;
    const named = this.namedSignal(type);
    if (named === SIGNAL_ERROR) this.errorData ??= text.slice(v, Math.min(end, v + VALUE_PREFIX));
    if (named !== -1) return named;
    if (end - v === 6 && text.startsWith('[DONE]', v)) return 0;
    // As the full parse: blank data (within the kept prefix) is a keepalive, not a token.
    const last = Math.min(end, v + VALUE_PREFIX);
    for (let i = v; i < last; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 32 && ch !== 9) return SIGNAL_TOKEN;
    }
    return 0;
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

  /** What an event's name alone decides: audio, error, ignored (0), or -1 when its data decides. */
  private namedSignal(type: string): number {
    if (type === '') return -1;
    const c = this.classes;
    if (c.audio.has(type)) return SIGNAL_AUDIO;
    if (c.error.has(type)) return SIGNAL_ERROR;
    if (c.ignored.has(type)) return 0;
    return -1;
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
    const named = this.namedSignal(type);
    if (named === SIGNAL_ERROR) this.errorData ??= data;
    if (named !== -1) return named;
    // OpenAI-style end-of-stream sentinel, and empty keepalive events, are not tokens.
    if (data === '[DONE]' || isBlank(data)) return 0;
    return SIGNAL_TOKEN;
  }
}

// One array per configuration, not per parser: parsers are created per response.
let namesFor: SseEventClasses | undefined;
let names: readonly string[] = [];
function errorNamesOf(classes: SseEventClasses): readonly string[] {
  if (namesFor !== classes) {
    namesFor = classes;
    names = [...classes.error];
  }
  return names;
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
