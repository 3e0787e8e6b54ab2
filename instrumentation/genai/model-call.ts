import type { ModelCallSeries, ModelCallTarget } from '../metrics/model-calls';
import type { Recorder } from '../metrics/recorder';
import type { PayloadFormat } from '../streams/formats/frame';
import { statusErrorType, streamErrorType, thrownErrorType } from './error-type';
import { StreamFacts } from '../streams/formats/frame';
import { documentUsage, objectUsage, readerFor, type ChunkResult, type ResponseReader } from './response-reader';
import { firstStringValue, K_MODEL } from './request-model';
import type { FirstTokenLink } from './request-link';

/**
 * One model call, from the request to the end of its response body: its time to first output
 * chunk, the time between chunks, its duration and usage. Ends once, whichever way it ends
 * (body done, failed, cancelled, error status); nothing of the request or response text is kept
 * beyond the parsers' bounded prefixes, and only model names, counts and error types leave it.
 */
export class ModelCall {
  private reader: ResponseReader | undefined;
  private series: ModelCallSeries | undefined;
  private firstChunkAt = -1;
  private lastChunkAt = -1;
  private errorType: string | undefined;
  private ended = false;
  /** Reused for every read: the hot path allocates nothing here. */
  private readonly result: ChunkResult = { chunks: 0, error: false };

  constructor(
    private readonly recorder: Recorder,
    readonly target: ModelCallTarget,
    private readonly format: PayloadFormat | undefined,
    /** `performance.now()` when the app called fetch. */
    readonly startedAt: number,
    /** The link of the request the call was made for (first-token breakdown), if any. */
    private readonly link?: FirstTokenLink,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** The response headers arrived: an error status ends the call, a success picks the body reader. */
  response(status: number, contentType: string, now: number): boolean {
    if (status >= 400) {
      this.end(statusErrorType(status), now);
      return false;
    }
    this.reader = readerFor(contentType, this.format);
    return true;
  }

  private resolve(model = this.reader?.model()): ModelCallSeries {
    return (this.series ??= this.recorder.modelCalls.series(this.target, model));
  }

  /** Whether the body is a stream to time chunk by chunk (else the app's own parse is read). */
  get streaming(): boolean {
    return this.reader?.streaming === true;
  }

  /**
   * The app read a whole (non-streamed) body with `json()` or `text()`: its usage and model come
   * from what it parsed, and the call ends now.
   */
  whole(value: unknown, isText: boolean, now: number): void {
    if (this.ended) return;
    const facts = new StreamFacts();
    let model: string | undefined;
    if (isText && typeof value === 'string') {
      documentUsage(value.length > 2048 ? value.slice(-1024) : value, facts);
      model = firstStringValue(value.length > 1024 ? value.slice(0, 1024) : value, K_MODEL);
    } else model = objectUsage(value, facts);
    this.resolve(model);
    this.endWith(undefined, now, facts);
  }

  chunk(bytes: Uint8Array, now: number): void {
    const reader = this.reader;
    if (reader === undefined || this.ended) return;
    const r = this.result;
    reader.read(bytes, r);
    if (r.error && this.errorType === undefined) this.errorType = streamErrorType(reader.errorData());
    let n = r.chunks;
    if (n === 0 || !reader.streaming) return;
    const series = this.resolve();
    if (this.firstChunkAt < 0) {
      this.firstChunkAt = now;
      this.recorder.modelFirstChunk(series, (now - this.startedAt) / 1000);
      this.link?.modelFirstChunk(this.startedAt, now);
      n--;
    } else {
      this.recorder.modelChunkGap(series, (now - this.lastChunkAt) / 1000);
      n--;
    }
    // Several chunks in one read arrived together: the rest came 0 s after the previous one.
    for (; n > 0; n--) this.recorder.modelChunkGap(series, 0);
    this.lastChunkAt = now;
  }

  /** The body ended normally (an in-stream error event still fails the call). */
  done(now: number): void {
    this.end(this.errorType, now);
  }

  failed(err: unknown, now: number): void {
    this.end(this.errorType ?? thrownErrorType(err), now);
  }

  cancelled(now: number): void {
    this.end(this.errorType ?? 'cancelled', now);
  }

  private end(errorType: string | undefined, now: number): void {
    this.endWith(errorType, now, this.reader?.facts);
  }

  private endWith(errorType: string | undefined, now: number, readerFacts: StreamFacts | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const series = this.resolve();
    // Usage counts a complete answer only: a failed stream's partial counts would read as a short answer.
    const facts = errorType === undefined ? readerFacts : undefined;
    this.recorder.modelCallEnded(
      series,
      this.target.operation,
      errorType,
      (now - this.startedAt) / 1000,
      this.firstChunkAt < 0 ? -1 : (this.firstChunkAt - this.startedAt) / 1000,
      facts?.inputTokens ?? -1,
      facts?.outputTokens ?? -1,
    );
  }
}
