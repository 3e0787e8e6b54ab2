import * as http from 'node:http';

export interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: string;
  readonly retry?: number;
}

/** A small SSE client for tests: parsed events, comments, headers, and waiting for a condition. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  ended = false;
  private buffer = '';
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private waiters: (() => void)[] = [];

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      c.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        c.res = res;
        c.status = res.statusCode ?? 0;
        c.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => c.feed(chunk));
        res.on('end', () => c.finish());
        res.on('close', () => c.finish());
        resolve(c);
      });
      c.req.on('error', reject);
    });
  }

  private feed(chunk: string): void {
    this.body += chunk;
    this.buffer += chunk;
    let i: number;
    while ((i = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      const e: { id?: string; event: string; data: string[] } = { event: 'message', data: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
        else if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data.push(line.slice(6));
      }
      if (e.data.length > 0) this.events.push({ ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data: e.data.join('\n') });
    }
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Snapshots received so far, parsed. */
  snapshots<T = any>(): T[] {
    return this.events.filter((e) => e.event === 'snapshot').map((e) => JSON.parse(e.data) as T);
  }

  /** Resolves once `cond` holds (checked on every chunk); rejects after `timeoutMs`. */
  async until(cond: (c: this) => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`SSE: timed out waiting for ${what}; received:\n${this.body.slice(-1500)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
  }
}
