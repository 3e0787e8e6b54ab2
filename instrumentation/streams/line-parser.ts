import { detectLine } from './formats/detect';
import { FRAME_CONTENT, FRAME_ERROR, StreamFacts, type PayloadFormat } from './formats/frame';
import type { StreamRules } from './formats/rules';
import { VALUE_PREFIX, VALUE_TAIL } from './sse-parser';

/**
 * Incremental parser of line-delimited streams: NDJSON (Ollama, JSON Lines) and the AI SDK data
 * stream protocol, whose lines are `TYPE:JSON` (`typed`). Like the SSE parser it keeps a bounded
 * prefix and tail of the current line, and returns the FRAME_* bits of the lines a chunk completed.
 */
export class LineParser {
  errorData: string | undefined;
  content = 0;
  readonly facts = new StreamFacts();

  private format: PayloadFormat | undefined;
  private line = '';
  private truncated = false;
  private tail = '';

  constructor(
    private readonly rules: StreamRules,
    format: PayloadFormat | undefined,
    private readonly typed: boolean,
  ) {
    this.format = rules.forced ?? format;
  }

  feed(chunk: string | Uint8Array): number {
    const text = typeof chunk === 'string' ? chunk : latin1(chunk);
    let signals = 0;
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      const lf = text.indexOf('\n', pos);
      if (lf === -1) {
        this.append(text, pos, n);
        break;
      }
      if (this.line === '' && !this.truncated) {
        const end = Math.min(lf, pos + VALUE_PREFIX);
        signals |= this.complete(text.slice(pos, end), lf > end ? text.slice(Math.max(pos, lf - VALUE_TAIL), lf) : '');
      } else {
        this.append(text, pos, lf);
        const line = this.line;
        const tail = this.truncated ? this.tail : '';
        this.line = '';
        this.tail = '';
        this.truncated = false;
        signals |= this.complete(line, tail);
      }
      pos = lf + 1;
    }
    return signals;
  }

  private append(text: string, from: number, to: number): void {
    if (from >= to) return;
    if (this.truncated) {
      this.tail = (this.tail + text.slice(Math.max(from, to - VALUE_TAIL), to)).slice(-VALUE_TAIL);
      return;
    }
    const room = VALUE_PREFIX - this.line.length;
    if (to - from > room) {
      // The tail is the line's end whatever the prefix kept: usage may straddle the boundary.
      this.tail = (this.line + text.slice(Math.max(from, to - VALUE_TAIL), to)).slice(-VALUE_TAIL);
      this.line += text.slice(from, from + room);
      this.truncated = true;
    } else this.line += text.slice(from, to);
  }

  private complete(line: string, tail: string): number {
    let data = line.trim();
    if (data === '') return 0;
    let event = '';
    if (this.typed) {
      const colon = data.indexOf(':');
      if (colon > 0 && colon <= 2) {
        event = data.slice(0, colon);
        data = data.slice(colon + 1);
      }
    }
    this.facts.tail = tail;
    let format = this.format;
    if (format === undefined) {
      format = detectLine(data);
      if (format !== undefined) this.format = format;
    }
    const frame = (format ?? this.rules.generic).classify(event, data, this.facts);
    if (frame === FRAME_CONTENT) {
      this.content++;
      if (this.format === undefined) this.format = this.rules.generic;
    } else if (frame === FRAME_ERROR) this.errorData ??= data;
    return frame;
  }
}

function latin1(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1');
}
