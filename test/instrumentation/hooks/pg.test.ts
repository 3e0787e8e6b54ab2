import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../instrumentation/config/env';
import { errorTypeOf, keywordCode, operationOf, operationOfCode } from '../../../instrumentation/hooks/pg';
import { startRuntime, type Runtime } from '../../../instrumentation/runtime';
import { MetricsView } from '../../helpers/metrics';

type Pg = typeof import('pg');
const DB = 'db.client.operation.duration';
const URL = 'postgres://postgres@127.0.0.1:5432/postgres';

let runtime: Runtime;
let view: MetricsView;
let pg: Pg;
let pool: InstanceType<Pg['Pool']>;

function count(operation: string, errorType?: string): number {
  const attrs: Record<string, string> = { 'db.system.name': 'postgresql', 'db.operation.name': operation };
  if (errorType !== undefined) attrs['error.type'] = errorType;
  return view.count(DB, attrs);
}

beforeAll(async () => {
  runtime = startRuntime(resolveConfig({ OTEL_METRICS_EXPORTER: 'none' }).config);
  view = new MetricsView(runtime.recorder);
  pg = (await import('pg')).default as unknown as Pg;
  pool = new pg.Pool({ connectionString: URL, max: 2 });
});

afterAll(async () => {
  await pool.end();
  await runtime.shutdown();
});

describe('pg query durations', () => {
  it('records pool queries by operation with their duration', async () => {
    const before = count('SELECT');
    const res = await pool.query('SELECT pg_sleep(0.2), $1::int AS n', [7]);
    expect(res.rows[0].n).toBe(7);
    expect(count('SELECT')).toBe(before + 1);
    const h = view.histogram(DB, { 'db.operation.name': 'SELECT', 'error.type': undefined as unknown as string });
    expect(h.max!).toBeGreaterThanOrEqual(0.2);
    expect(h.max!).toBeLessThan(0.3);
  });

  it('records callback-style queries and failures with the SQLSTATE as error.type', async () => {
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    try {
      const before = count('SELECT', '42P01');
      const dbErrors = view.value('chatbot.errors', { 'error.type': 'database' });
      await new Promise<void>((resolve) => {
        client.query('SELECT * FROM chatpulse_no_such_table', (err: Error | null) => {
          expect(err).toBeInstanceOf(Error);
          resolve();
        });
      });
      await expect(client.query('/* comment */ select 1 from chatpulse_no_such_table')).rejects.toThrow(/does not exist/);
      expect(count('SELECT', '42P01')).toBe(before + 2);
      expect(view.value('chatbot.errors', { 'error.type': 'database' })).toBe(dbErrors + 2);
      const beginBefore = count('BEGIN');
      await client.query('BEGIN');
      await client.query('ROLLBACK');
      expect(count('BEGIN')).toBe(beginBefore + 1);
    } finally {
      await client.end();
    }
  });
});

describe('health probe traffic', () => {
  it('does not count queries on connections named chatpulse-health (the health service probes)', async () => {
    const probe = new pg.Client({ connectionString: URL, application_name: 'chatpulse-health' });
    await probe.connect();
    try {
      const before = count('SELECT');
      await probe.query('SELECT 1');
      expect(count('SELECT')).toBe(before);
    } finally {
      await probe.end();
    }
  });
});

describe('operation and error type extraction', () => {
  it('takes the first SQL keyword, bounded to known commands', () => {
    expect(operationOf('select 1')).toBe('SELECT');
    expect(operationOf({ text: '  -- note\n  INSERT INTO t VALUES (1)' })).toBe('INSERT');
    expect(operationOf('/* a */ /* b */ with x as (select 1) select * from x')).toBe('WITH');
    expect(operationOf('(SELECT 1) UNION (SELECT 2)')).toBe('SELECT');
    expect(operationOf('frobnicate everything')).toBe('other');
    expect(operationOf(undefined)).toBe('other');
  });

  it('reads the keyword from the first characters exactly as the expression does, or leaves the text to it', () => {
    // Every text the scan decides (code >= 0) must get the expression's answer; the rest go to it.
    const words = ['select', 'SELECT', 'Insert', 'deallocate', 'DEALLOCATEX', 'refresh', 'do', 'd', 'with', 'frobnicate', 'x'.repeat(40), 'SELECTs', 'upDATE'];
    const lead = ['', ' ', '  \t', '\n', '\r\n ', '\v\f', '\u00a0', '\u3000 ', '-- c\n', '/* c */', '(', ' ( ', '\ufeff'];
    const tail = ['', ' 1', '_x FROM t', '1', '(', ';', '\n', '\u00e9', '$1', '-- x'];
    let decided = 0;
    for (const l of lead) {
      for (const w of words) {
        for (const t of tail) {
          const text = l + w + t;
          const code = keywordCode(text);
          if (code >= 0) {
            decided++;
            expect(operationOfCode(code), JSON.stringify(text)).toBe(operationOf(text));
          } else expect(/^[ \t\n\v\f\r]*[A-Za-z]/.test(text), JSON.stringify(text)).toBe(false);
        }
      }
    }
    expect(decided).toBeGreaterThan(500);
    expect(keywordCode('')).toBe(-1);
    expect(keywordCode('   ')).toBe(-1);
    expect(operationOfCode(keywordCode('select 1'))).toBe('SELECT');
    expect(operationOfCode(keywordCode('selectx 1'))).toBe('other');
    // A built string (a fresh concatenation each call, as apps make them) reads the same.
    const table = 'messages';
    expect(operationOfCode(keywordCode(`INSERT INTO ${table} (a) VALUES ($1)`))).toBe('INSERT');
  });

  it('uses SQLSTATE, then socket codes, then the error class', () => {
    expect(errorTypeOf({ code: '23505' })).toBe('23505');
    expect(errorTypeOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorTypeOf(new TypeError('x'))).toBe('TypeError');
    expect(errorTypeOf('weird')).toBe('_OTHER');
  });
});
