/**
 * Incremental Server-Sent Events parser (WHATWG "event stream interpretation"), reduced to what
 * the metrics need: which events carry content, audio or errors. What an event carries is decided
 * by its name when configured (audio, error, control names), else by the stream's wire format
 * (formats/), recognised from its first events. It keeps only a bounded prefix (and a short tail)
 * of the current line, so a multi-megabyte `data:` line costs a native scan and no memory.
 */
import { detectEvent } from './formats/detect';
import { FRAME_AUDIO, FRAME_CONTENT, FRAME_ERROR, StreamFacts, type PayloadFormat } from './formats/frame';
import { GENERIC_CONTENT_EVENT, GENERIC_CONTENT_EVENT_MAX, GENERIC_CONTENT_EVENT_MIN } from './formats/generic';
import { StreamRules, type EventNames } from './formats/rules';
import { readUsage } from './formats/usage';

// String methods called through the prototype's functions: in a server whose writes pass strings
// of several representations, V8 compiled `text.indexOf(…)` here as a generic property lookup per
// call (27 a chat request, callgrind), which a call of the function itself does not need.
const { charCodeAt, indexOf, slice, startsWith } = String.prototype;

/** The event names a parser classifies by name (kept as the parser's original option type). */
export type SseEventClasses = EventNames;

export const SIGNAL_TOKEN = FRAME_CONTENT;
export const SIGNAL_AUDIO = FRAME_AUDIO;
export const SIGNAL_ERROR = FRAME_ERROR;

/** How much of a line's value is kept: enough for the fields the formats read in a chunk. */
export const VALUE_PREFIX = 1000;
/** How much of the end of a longer line is kept: usage comes last in OpenAI's `response.completed`. */
export const VALUE_TAIL = 512;
/** Longest field name the spec cares about is "retry"/"event"; keep a little slack. */
const LINE_PREFIX = VALUE_PREFIX + 16;

export class SseParser {
  /** Data prefix of the first error event seen, for classification. */
  errorData: string | undefined;
  /** Content events completed since the caller last reset it. */
  content = 0;
  /** Usage and error class the stream reported. */
  readonly facts = new StreamFacts();

  private readonly rules: StreamRules;
  /** The stream's format: forced, chosen from headers, or recognised from its events. */
  private format: PayloadFormat | undefined;
  private line = '';
  /** The end of the current line once it outgrew the kept prefix. */
  private lineTail = '';
  private lineTruncated = false;
  private afterCR = false;
  private started = false;
  private eventType = '';
  private hasData = false;
  private data = '';
  /** The end of the current event's last data line, when longer than the kept prefix. */
  private dataTail = '';
  /** Between events with nothing pending (no partial line, no CR, no event type or data yet). */
  private atBoundary = false;
  /** Set once the stream is fixed to the generic rules and unnamed events carry its content. */
  private steady: RegExp | undefined;

  /** `rules` built once per configuration; bare event names get the automatic format rules. */
  constructor(rules: StreamRules | EventNames, format?: PayloadFormat) {
    this.rules = rules instanceof StreamRules ? rules : new StreamRules({ ...rules, format: 'auto', tokenEvents: new Set(), tokenField: [] });
    this.format = this.rules.forced ?? format;
  }

  /**
   * Feeds one written chunk and returns the SIGNAL_* bits of the events it completed; `content`
   * grows by the number of content events among them.
   *
   * The usual writes of a running stream are whole events (the parser is between events and the
   * chunk ends with a blank line): a single `[event: NAME LF] data: VALUE LF LF` event is read in
   * place; anything else gets the full parse.
   */
  feed(chunk: string | Uint8Array): number {
    if ((this.atBoundary || !this.started) && typeof chunk === 'string') {
      const n = chunk.length;
      // A running generic stream's token event, recognised by one compiled expression; a chunk that
      // cannot be one (`event: done`) is not handed to it (~200 instructions a call, even to fail).
      if (
        this.steady !== undefined &&
        n <= GENERIC_CONTENT_EVENT_MAX &&
        n >= GENERIC_CONTENT_EVENT_MIN &&
        charCodeAt.call(chunk, 0) === 100 /* d */ &&
        this.steady.test(chunk)
      ) {
        this.content++;
        return FRAME_CONTENT;
      }
      if (n >= 2 && chunk.charCodeAt(n - 1) === 10 && chunk.charCodeAt(n - 2) === 10) {
        const signals = this.singleEvent(chunk);
        if (signals !== -1) {
          this.started = true;
          this.atBoundary = true;
          return signals;
        }
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
        signals |= this.fieldLine(text, pos, end, '');
      } else {
        this.appendPartial(text, pos, end);
        const line = this.line;
        const tail = this.lineTruncated ? this.lineTail : '';
        this.line = '';
        this.lineTail = '';
        this.lineTruncated = false;
        signals |= this.fieldLine(line, 0, line.length, tail);
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
   * The signals of a chunk that is exactly one event with one optional `event` line and one
   * `data` line (LF only), read in place; -1 for any other shape. Same result as the full parse.
   */
  private singleEvent(text: string): number {
    // A native search: Node's write has flattened the string already (Buffer.byteLength), and a
    // JS charCodeAt loop over it cost ~100 instructions a character in the server (callgrind).
    if (indexOf.call(text, '\r') !== -1) return -1;
    let pos = 0;
    let type = '';
    if (charCodeAt.call(text, 0) === 101 /* e */) {
      if (!startsWith.call(text, 'event:')) return -1;
      const lf = indexOf.call(text, '\n');
      let v = 6;
      if (v < lf && charCodeAt.call(text, v) === 32) v++;
      type = slice.call(text, v, Math.min(lf, v + VALUE_PREFIX));
      pos = lf + 1;
    }
    if (!startsWith.call(text, 'data:', pos)) return -1;
    const end = indexOf.call(text, '\n', pos);
    // One data line, then the blank line that ends the chunk.
    if (end !== text.length - 2) return -1;
    let v = pos + 5;
    if (v < end && charCodeAt.call(text, v) === 32) v++;
    const named = this.namedSignal(type);
    if (named === SIGNAL_ERROR) this.errorData ??= slice.call(text, v, Math.min(end, v + VALUE_PREFIX));
    else if (named === 0) this.control(slice.call(text, v, Math.min(end, v + VALUE_PREFIX)));
    if (named !== -1) return named;
    if (end - v === 6 && startsWith.call(text, '[DONE]', v)) return 0;
    // As the full parse: blank data (within the kept prefix) is a keepalive, not a token.
    const last = Math.min(end, v + VALUE_PREFIX);
    let i = v;
    while (i < last && (charCodeAt.call(text, i) === 32 || charCodeAt.call(text, i) === 9)) i++;
    if (i === last) return 0;
    this.facts.tail = end > last ? slice.call(text, Math.max(v, end - VALUE_TAIL), end) : '';
    return this.payload(type, slice.call(text, v, last));
  }

  /** A control event by name (`event: done`): a house format may report the usage there. */
  private control(data: string): void {
    if (data.indexOf('"usage"') !== -1) readUsage(data, this.facts);
  }

  /** What the stream's format makes of one event with data; recognises the format on the way. */
  private payload(type: string, data: string): number {
    let format = this.format;
    const rules = this.rules;
    if (format === undefined) {
      format = detectEvent(type, data);
      if (format !== undefined) this.format = format;
    }
    const frame = (format ?? rules.generic).classify(type, data, this.facts);
    if (frame === FRAME_CONTENT) {
      this.content++;
      // A stream the generic rules found content in keeps them: no more detection per event.
      if (this.format === undefined) this.format = rules.generic;
      if (this.format === rules.generic && this.namedSignal('') === -1) this.steady = GENERIC_CONTENT_EVENT;
    } else if (frame === FRAME_ERROR) this.errorData ??= data;
    return frame;
  }

  private appendPartial(text: string, from: number, to: number): void {
    if (from >= to) return;
    if (this.lineTruncated) {
      this.lineTail = (this.lineTail + text.slice(Math.max(from, to - VALUE_TAIL), to)).slice(-VALUE_TAIL);
      return;
    }
    const room = LINE_PREFIX - this.line.length;
    if (to - from > room) {
      // The tail is the line's end whatever the prefix kept: usage may straddle the boundary.
      this.lineTail = (this.line + text.slice(Math.max(from, to - VALUE_TAIL), to)).slice(-VALUE_TAIL);
      this.line += text.slice(from, from + room);
      this.lineTruncated = true;
    } else this.line += from === 0 && to === text.length ? text : text.slice(from, to);
  }

  /**
   * One complete line, text[start, end): a blank line dispatches; `data` and `event` are kept.
   * `tail` is the end of a line longer than the kept prefix, when not in `text`.
   */
  private fieldLine(text: string, start: number, end: number, tail: string): number {
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
    this.dataTail = tail !== '' ? tail : end - valueStart > VALUE_PREFIX ? text.slice(Math.max(valueStart, end - VALUE_TAIL), end) : '';
    this.hasData = true;
    return 0;
  }

  /**
   * What an event's name alone decides: audio, error, ignored (0), or -1 when its data decides.
   * With `CHATPULSE_SSE_TOKEN_EVENTS` set, an event of any other name (unnamed ones are `message`)
   * carries no token.
   */
  private namedSignal(type: string): number {
    const rules = this.rules;
    const tokenEvents = rules.tokenEvents;
    if (type === '') return tokenEvents === undefined || tokenEvents.has('message') ? -1 : 0;
    const named = rules.byName.get(type);
    if (named !== undefined) return named;
    if (tokenEvents !== undefined && !tokenEvents.has(type)) return 0;
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
    else if (named === 0) this.control(data);
    if (named !== -1) return named;
    // OpenAI-style end-of-stream sentinel, and empty keepalive events, are not tokens.
    if (data === '[DONE]' || isBlank(data)) return 0;
    this.facts.tail = this.dataTail;
    return this.payload(type, data);
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
