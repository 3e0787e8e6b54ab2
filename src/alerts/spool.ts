import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { AlertmanagerPayload } from './alertmanager';
import { AlreadyAppliedError, StoreUnavailableError } from './store';
import type { Action } from './types';

/** A change the alerts API accepted while the store could not take it. */
export type SpoolEntry =
  | { readonly key: string; readonly at: number; readonly kind: 'transition'; readonly ids: readonly string[]; readonly action: Action; readonly by: string; readonly note: string | null }
  | { readonly key: string; readonly at: number; readonly kind: 'alertmanager'; readonly payload: AlertmanagerPayload };

/** Distributes Omit over the union (the key is the spool's to give). */
export type NewSpoolEntry = SpoolEntry extends infer E ? (E extends SpoolEntry ? Omit<E, 'key'> & { key?: string } : never) : never;

export interface SpoolOptions {
  /** Entries kept at most; past it the API refuses (503) rather than drop what it accepted. */
  readonly maxEntries: number;
  /** A directory for the spool file (one per replica); unset: memory only, lost if the process dies. */
  readonly dir?: string;
  readonly logger: Logger;
}

export const SPOOL_FILE = 'chatpulse-alert-spool.jsonl';

/**
 * The local spool: changes accepted while Postgres is down, kept in order (in memory, and in an
 * append-only file when a directory is configured: each entry is on disk, fsync'd, before the API
 * answers `queued`), and written to the store in order when it returns. Each entry carries an
 * idempotency key the store records with the change, so an entry applied just before a crash or a
 * lost answer is skipped on replay: exactly once.
 */
export class Spool {
  private entries: SpoolEntry[] = [];
  private readonly file: string | undefined;
  /** File operations, one at a time, in order. */
  private io: Promise<void> = Promise.resolve();
  private draining: Promise<DrainResult> | undefined;
  /** Entries applied or skipped since start. */
  applied = 0;
  dropped = 0;

  constructor(private readonly o: SpoolOptions) {
    this.file = o.dir === undefined ? undefined : path.join(o.dir, SPOOL_FILE);
  }

  get size(): number {
    return this.entries.length;
  }

  get full(): boolean {
    return this.entries.length >= this.o.maxEntries;
  }

  get durable(): boolean {
    return this.file !== undefined;
  }

  get maxEntries(): number {
    return this.o.maxEntries;
  }

  /** Reads what a previous run left (a torn last line, from a crash mid-write, is skipped). */
  async load(): Promise<number> {
    if (this.file === undefined) return 0;
    mkdirSync(path.dirname(this.file), { recursive: true });
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const loaded: SpoolEntry[] = [];
    for (const [i, line] of lines.entries()) {
      try {
        const e = JSON.parse(line) as SpoolEntry;
        if (typeof e.key === 'string' && typeof e.at === 'number' && (e.kind === 'transition' || e.kind === 'alertmanager')) loaded.push(e);
      } catch {
        this.o.logger.warn({ file: this.file, line: i + 1 }, 'alerts: spool file line unreadable (torn write?); skipped');
      }
    }
    this.entries = [...loaded, ...this.entries];
    if (loaded.length > 0) this.o.logger.info({ file: this.file, entries: loaded.length }, 'alerts: spooled changes from a previous run found; they are written to the store when it answers');
    return loaded.length;
  }

  /** Keeps an accepted change; on disk first when a directory is configured. Throws when full. */
  async add(e: NewSpoolEntry): Promise<SpoolEntry> {
    if (this.full) throw new StoreUnavailableError(`alert store unavailable and the local spool is full (${this.o.maxEntries} changes waiting)`);
    const entry = { ...e, key: e.key ?? randomUUID() } as SpoolEntry;
    this.entries.push(entry);
    if (this.file !== undefined) {
      const file = this.file;
      const write = this.io.then(async () => {
        const fh = await open(file, 'a');
        try {
          await fh.appendFile(`${JSON.stringify(entry)}\n`);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      });
      this.io = write.catch(() => undefined);
      try {
        await write;
      } catch (err) {
        this.entries.splice(this.entries.indexOf(entry), 1);
        throw new StoreUnavailableError(`alert store unavailable and the spool file could not be written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    return entry;
  }

  /**
   * Writes the entries to the store in order, one at a time (single flight). Stops at the first
   * one the store cannot take (it stays first); an entry the store already holds is skipped; an
   * entry that fails otherwise (a bug, a change the store refuses) is logged and dropped so it
   * cannot block the rest.
   */
  drain(apply: (e: SpoolEntry) => Promise<void>): Promise<DrainResult> {
    this.draining ??= (async () => {
      const r = { applied: 0, skipped: 0, dropped: 0, blocked: undefined as string | undefined };
      try {
        while (this.entries.length > 0) {
          const e = this.entries[0]!;
          try {
            await apply(e);
            r.applied++;
          } catch (err) {
            if (err instanceof AlreadyAppliedError) r.skipped++;
            else if (err instanceof StoreUnavailableError) {
              r.blocked = err.message;
              break;
            } else {
              r.dropped++;
              this.dropped++;
              this.o.logger.error({ err: (err as Error).message, key: e.key, kind: e.kind }, 'alerts: a spooled change failed and is dropped');
            }
          }
          this.entries.shift();
          this.applied++;
        }
        if (r.applied + r.skipped + r.dropped > 0) await this.rewrite();
        return r;
      } finally {
        this.draining = undefined;
      }
    })();
    return this.draining;
  }

  /** Replaces the file with what is left (atomically: a crash leaves the old or the new). */
  private rewrite(): Promise<void> {
    if (this.file === undefined) return Promise.resolve();
    const file = this.file;
    const next = this.io.then(async () => {
      const tmp = `${file}.${process.pid}.tmp`;
      const rest = this.entries.map((e) => `${JSON.stringify(e)}\n`).join('');
      await writeFile(tmp, rest, { flush: true });
      await rename(tmp, file);
    });
    this.io = next.catch((err) => this.o.logger.warn({ err: (err as Error).message, file }, 'alerts: spool file not rewritten; replayed entries are skipped by key'));
    return this.io;
  }
}

export interface DrainResult {
  readonly applied: number;
  readonly skipped: number;
  readonly dropped: number;
  /** Why the drain stopped before the end (the store is still unavailable). */
  readonly blocked: string | undefined;
}
