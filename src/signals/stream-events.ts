import type { StreamOutcome } from '../../instrumentation/metrics/catalog';

export interface StreamEvent {
  readonly time: string;
  readonly route: string;
  readonly event: 'start' | 'first_token' | 'first_audio' | 'end';
  readonly outcome?: StreamOutcome;
  /** Seconds since request arrival (first token, first audio, end). */
  readonly seconds?: number;
}

/** The most recent stream events, in a fixed-size ring: memory is bounded whatever the traffic. */
export class StreamEventLog {
  private readonly ring: (StreamEvent | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 500) {
    this.ring = new Array<StreamEvent | undefined>(capacity);
  }

  push(e: StreamEvent): void {
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** Newest first. */
  recent(limit: number): StreamEvent[] {
    const n = Math.max(0, Math.min(limit, this.size));
    const out: StreamEvent[] = [];
    for (let i = 1; i <= n; i++) out.push(this.ring[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}
