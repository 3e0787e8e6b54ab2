/**
 * The AlertStore contract run on both stores: memory, and Postgres (real, 127.0.0.1:5432,
 * database `test`, a schema of its own per case, dropped after).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describe } from 'vitest';
import { MemoryStore } from '../../../src/alerts/memory-store';
import { PostgresStore } from '../../../src/alerts/postgres-store';
import type { AlertStore } from '../../../src/alerts/store';
import { alertStoreContract } from './store-contract';

const PG_TEST_URL = process.env.CHATPULSE_TEST_PG_CONTRACT_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('AlertStore contract: MemoryStore', () => {
  alertStoreContract({
    create: async () => {
      const s = new MemoryStore();
      await s.init();
      return s;
    },
    dispose: (s) => s.close(),
  });
});

describe('AlertStore contract: PostgresStore', () => {
  const schemas = new WeakMap<AlertStore, string>();
  alertStoreContract({
    create: async () => {
      const schema = `cp_contract_${process.pid}_${randomBytes(4).toString('hex')}`;
      const s = new PostgresStore({ connectionString: PG_TEST_URL, schema, applicationName: 'chatpulse-contract-test' });
      await s.init();
      schemas.set(s, schema);
      return s;
    },
    dispose: async (s) => {
      await s.close();
      const c = new Client({ connectionString: PG_TEST_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schemas.get(s)!} CASCADE`);
      } finally {
        await c.end();
      }
    },
  });
});
