import { now as clock } from '../clock';
import type { StreamOutcome } from '../metrics/catalog';
import type { Recorder, RouteSeries } from '../metrics/recorder';
import type { FirstTokenLink } from '../genai/request-link';

/**
 * One open stream: counted active from construction until `end`, which is idempotent so that every
 * exit path (finish, abort, socket destroyed, handler throw) can call it and the count never leaks.
 * It also counts the stream's content chunks, and records them with their mean spacing at the end.
 */
export class TrackedStream {
  private tokenSeen = false;
  private audioSeen = false;
  private ended = false;
  private chunks = 0;
  private firstChunkAt = 0;
  private lastChunkAt = 0;
  private inputTokens = -1;
  private outputTokens = -1;
  /** Set once an error of this stream was counted, so a failed stream is not counted twice. */
  errorCounted = false;

  constructor(
    private readonly recorder: Recorder,
    readonly route: RouteSeries,
    /** `performance.now()` at request arrival. */
    readonly startedAt: number,
    /** The request's link to the model call it waits for (the first-token breakdown), when enabled. */
    private readonly link?: FirstTokenLink,
  ) {
    recorder.streamStarted(route);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get hasToken(): boolean {
    return this.tokenSeen;
  }

  get hasAudio(): boolean {
    return this.audioSeen;
  }

  /** `n` content chunks left at `now`; the first of the stream is its first token. */
  content(now: number, n: number): void {
    if (this.ended) return;
    if (!this.tokenSeen) {
      this.tokenSeen = true;
      this.firstChunkAt = now;
      this.recorder.firstToken(this.route, (now - this.startedAt) / 1000);
      const link = this.link;
      if (link !== undefined) {
        link.settled = true;
        // The model's first chunk came before this token, in a call made after the request arrived.
        if (link.firstChunkAt >= 0 && link.firstChunkAt <= now && link.callStartedAt >= this.startedAt) {
          this.recorder.firstTokenBreakdown(
            this.route,
            (link.callStartedAt - this.startedAt) / 1000,
            (link.firstChunkAt - link.callStartedAt) / 1000,
            (now - link.firstChunkAt) / 1000,
          );
        }
      }
    }
    this.chunks += n;
    this.lastChunkAt = now;
  }

  firstToken(now = clock()): void {
    if (!this.tokenSeen) this.content(now, 1);
  }

  firstAudio(now = clock()): void {
    if (this.audioSeen || this.ended) return;
    this.audioSeen = true;
    this.recorder.firstAudio(this.route, (now - this.startedAt) / 1000);
  }

  /** Token usage the stream reported of itself (-1: not reported); the last report wins. */
  usage(input: number, output: number): void {
    if (input >= 0) this.inputTokens = input;
    if (output >= 0) this.outputTokens = output;
  }

  error(type: string): void {
    this.errorCounted = true;
    this.recorder.error(type);
  }

  end(outcome: StreamOutcome, now = clock()): void {
    if (this.ended) return;
    this.ended = true;
    const chunks = this.chunks;
    if (chunks > 0) {
      const gap = chunks > 1 ? (this.lastChunkAt - this.firstChunkAt) / 1000 / (chunks - 1) : undefined;
      this.recorder.streamOutput(this.route, chunks, gap);
    }
    if (this.inputTokens >= 0 || this.outputTokens >= 0) this.recorder.streamTokens(this.route, this.inputTokens, this.outputTokens);
    this.recorder.streamEnded(this.route, outcome, (now - this.startedAt) / 1000);
  }
}
