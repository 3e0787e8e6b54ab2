import { now as clock } from '../clock';
import type { StreamOutcome } from '../metrics/catalog';
import type { Recorder, RouteSeries } from '../metrics/recorder';

/**
 * One open stream: counted active from construction until `end`, which is idempotent so that every
 * exit path (finish, abort, socket destroyed, handler throw) can call it and the count never leaks.
 */
export class TrackedStream {
  private tokenSeen = false;
  private audioSeen = false;
  private ended = false;
  /** Set once an error of this stream was counted, so a failed stream is not counted twice. */
  errorCounted = false;

  constructor(
    private readonly recorder: Recorder,
    readonly route: RouteSeries,
    /** `performance.now()` at request arrival. */
    readonly startedAt: number,
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

  firstToken(now = clock()): void {
    if (this.tokenSeen || this.ended) return;
    this.tokenSeen = true;
    this.recorder.firstToken(this.route, (now - this.startedAt) / 1000);
  }

  firstAudio(now = clock()): void {
    if (this.audioSeen || this.ended) return;
    this.audioSeen = true;
    this.recorder.firstAudio(this.route, (now - this.startedAt) / 1000);
  }

  error(type: string): void {
    this.errorCounted = true;
    this.recorder.error(type);
  }

  end(outcome: StreamOutcome, now = clock()): void {
    if (this.ended) return;
    this.ended = true;
    this.recorder.streamEnded(this.route, outcome, (now - this.startedAt) / 1000);
  }
}
