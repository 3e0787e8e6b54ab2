import { FRAME_AUDIO, FRAME_CONTENT, FRAME_ERROR, StreamFacts, type PayloadFormat } from '../streams/formats/frame';
import { intValue, key, valueStart } from '../streams/formats/json-scan';
import { StreamRules } from '../streams/formats/rules';
import { readUsage } from '../streams/formats/usage';
import { LineParser } from '../streams/line-parser';
import { SseParser } from '../streams/sse-parser';
import { firstStringValue, K_MODEL } from './request-model';

const K_MODEL_VERSION = key('modelVersion');

const K_USAGE = key('usage');
const K_CACHE_READ_INPUT_TOKENS = key('cache_read_input_tokens');
const K_CACHE_CREATION_INPUT_TOKENS = key('cache_creation_input_tokens');
const K_USAGEMETADATA = key('usageMetadata');
const K_PROMPTTOKENCOUNT = key('promptTokenCount');
const K_CANDIDATESTOKENCOUNT = key('candidatesTokenCount');

/**
 * Rules for model APIs' own streams, whatever the app's downstream settings (a forced downstream
 * format or token field must not apply to what the model sends): automatic formats, `ping`
 * ignored, `error` events are errors.
 */
export const UPSTREAM_RULES = new StreamRules({
  audio: new Set<string>(),
  error: new Set(['error']),
  ignored: new Set(['ping']),
  format: 'auto',
  tokenEvents: new Set<string>(),
  tokenField: [],
});

/** What one read of a response body held, for the call's timing. */
export interface ChunkResult {
  /** Output chunks completed by this read (content, tool calls, reasoning, audio). */
  chunks: number;
  /** The data of the first in-stream error event, once one was seen. */
  error: boolean;
}

/**
 * Reads a model API's response body as it passes by, chunk by chunk, with the same parsers and
 * format rules as the app's own streams: what counts as output is decided exactly as for the
 * downstream first token. Holds bounded state only.
 */
export interface ResponseReader {
  /** Whether this is a stream (SSE, NDJSON, audio bytes): only streams report chunk timings. */
  readonly streaming: boolean;
  read(chunk: Uint8Array, out: ChunkResult): void;
  /** Usage and response model, once the body ended. */
  readonly facts: StreamFacts;
  errorData(): string | undefined;
  /** The response model, when the body named it. */
  model(): string | undefined;
}

/** How many of a stream's first reads are scanned for the response model, and how much of each. */
const MODEL_SCAN_READS = 3;
const MODEL_SCAN_BYTES = 8192;

function latin1(bytes: Uint8Array, max: number): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1', 0, Math.min(max, buf.length));
}

function scanModel(text: string): string | undefined {
  return firstStringValue(text, K_MODEL) ?? firstStringValue(text, K_MODEL_VERSION);
}

/** SSE or NDJSON through the shared parsers. */
class ParsedStream implements ResponseReader {
  readonly streaming = true;
  private readonly parser: SseParser | LineParser;
  private reads = 0;
  private responseModel: string | undefined;

  constructor(lines: boolean, format: PayloadFormat | undefined) {
    this.parser = lines ? new LineParser(UPSTREAM_RULES, format, false) : new SseParser(UPSTREAM_RULES, format);
  }

  get facts(): StreamFacts {
    return this.parser.facts;
  }

  read(chunk: Uint8Array, out: ChunkResult): void {
    // The first events (OpenAI's role chunk, Anthropic's message_start, response.created) name the model.
    if (this.responseModel === undefined && this.reads < MODEL_SCAN_READS) {
      this.reads++;
      this.responseModel = scanModel(latin1(chunk, MODEL_SCAN_BYTES));
    }
    const p = this.parser;
    const before = p.content;
    const signals = p.feed(chunk);
    // The parsers count content events; an audio event (Responses' audio delta) is output too.
    out.chunks = p.content - before + ((signals & FRAME_AUDIO) !== 0 && (signals & FRAME_CONTENT) === 0 ? 1 : 0);
    out.error = (signals & FRAME_ERROR) !== 0;
  }

  errorData(): string | undefined {
    return this.parser.errorData;
  }

  model(): string | undefined {
    return this.responseModel;
  }
}

/** Audio bytes (speech synthesis): every non-empty read is a chunk, the first is the first audio. */
class ByteStream implements ResponseReader {
  readonly streaming = true;
  readonly facts = new StreamFacts();
  read(chunk: Uint8Array, out: ChunkResult): void {
    out.chunks = chunk.byteLength > 0 ? 1 : 0;
    out.error = false;
  }
  errorData(): undefined {
    return undefined;
  }
  model(): undefined {
    return undefined;
  }
}

/** Kept of a whole JSON response: its start (the model) and its end (the usage). */
const DOC_HEAD = 1024;
const DOC_TAIL = 1024;

/** A whole JSON response (a call that did not stream): only its start and end are kept. */
class JsonDocument implements ResponseReader {
  readonly streaming = false;
  readonly facts = new StreamFacts();
  private head = '';
  private tail = '';
  private done = false;

  read(chunk: Uint8Array, out: ChunkResult): void {
    out.chunks = 0;
    out.error = false;
    const text = latin1(chunk, chunk.byteLength);
    if (this.head.length < DOC_HEAD) this.head += text.slice(0, DOC_HEAD - this.head.length);
    this.tail = text.length >= DOC_TAIL ? text.slice(-DOC_TAIL) : (this.tail + text).slice(-DOC_TAIL);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    documentUsage(this.tail, this.facts);
  }

  errorData(): undefined {
    return undefined;
  }

  model(): string | undefined {
    this.finish();
    return scanModel(this.head);
  }
}

/**
 * Usage at the end of a whole response: OpenAI's `prompt_tokens` / `completion_tokens`, the
 * Responses API's and Anthropic's `input_tokens` / `output_tokens` (Anthropic's cache reads and
 * writes added to input, as in its stream), Gemini's `usageMetadata`.
 */
export function documentUsage(text: string, facts: StreamFacts): void {
  readUsage(text, facts);
  const u = valueStart(text, K_USAGE);
  if (u !== -1 && facts.inputTokens >= 0) {
    const read = intValue(text, K_CACHE_READ_INPUT_TOKENS, u);
    const created = intValue(text, K_CACHE_CREATION_INPUT_TOKENS, u);
    if (read > 0 || created > 0) facts.inputTokens += Math.max(read, 0) + Math.max(created, 0);
  }
  const g = valueStart(text, K_USAGEMETADATA);
  if (g !== -1) {
    const input = intValue(text, K_PROMPTTOKENCOUNT, g);
    const output = intValue(text, K_CANDIDATESTOKENCOUNT, g);
    if (input >= 0) facts.inputTokens = input;
    if (output >= 0) facts.outputTokens = output;
  }
}

/**
 * Usage and model of a whole response the app parsed itself (`json()`): read from the object, so
 * the body is parsed once, by the app. Same fields as documentUsage.
 */
export function objectUsage(value: unknown, facts: StreamFacts): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  const int = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : -1);
  const u = o.usage as Record<string, unknown> | undefined;
  if (u !== null && typeof u === 'object') {
    let input = int(u.input_tokens);
    if (input < 0) input = int(u.prompt_tokens);
    else input += Math.max(int(u.cache_read_input_tokens), 0) + Math.max(int(u.cache_creation_input_tokens), 0);
    let output = int(u.output_tokens);
    if (output < 0) output = int(u.completion_tokens);
    if (input >= 0) facts.inputTokens = input;
    if (output >= 0) facts.outputTokens = output;
  }
  const g = o.usageMetadata as Record<string, unknown> | undefined;
  if (g !== null && typeof g === 'object') {
    if (int(g.promptTokenCount) >= 0) facts.inputTokens = int(g.promptTokenCount);
    if (int(g.candidatesTokenCount) >= 0) facts.outputTokens = int(g.candidatesTokenCount);
  }
  const model = typeof o.model === 'string' ? o.model : typeof o.modelVersion === 'string' ? o.modelVersion : undefined;
  return model !== undefined && model.length <= 128 ? model : undefined;
}

/** The reader for a response, chosen by its content type. */
export function readerFor(contentType: string, format: PayloadFormat | undefined): ResponseReader {
  const ct = contentType.toLowerCase();
  if (ct.includes('text/event-stream')) return new ParsedStream(false, format);
  if (ct.includes('ndjson') || ct.includes('jsonl')) return new ParsedStream(true, format);
  if (ct.startsWith('audio/') || ct.startsWith('application/octet-stream')) return new ByteStream();
  return new JsonDocument();
}
