'use strict';

const { Pool } = require('pg');
const { redactUrl, describeError } = require('./log');

/** After a failure, skip Postgres for this long instead of making every request wait for a connect timeout. */
const RETRY_AFTER_MS = 5000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS conversations (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE IF NOT EXISTS messages (
    id              bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('user', 'assistant')),
    content         text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS messages_conversation_id_idx ON messages (conversation_id, id);
`;

// One round trip: create or touch the conversation, then append the message.
const INSERT_MESSAGE = `
  WITH conversation AS (
    INSERT INTO conversations (id) VALUES ($1)
    ON CONFLICT (id) DO UPDATE SET updated_at = now()
    RETURNING id
  )
  INSERT INTO messages (conversation_id, role, content)
  SELECT id, $2, $3 FROM conversation
  RETURNING id
`;

class StoreUnavailableError extends Error {
  name = 'StoreUnavailableError';
}

/**
 * Conversation history in Postgres. While Postgres is unreachable, writes are skipped
 * (the chat goes on without history) and reads fail with StoreUnavailableError. Logs one line per outage.
 */
function createStore({ url, logger }) {
  const where = redactUrl(url);
  const pool = new Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 2000,
    query_timeout: 2000,
    idleTimeoutMillis: 30_000,
  });

  let healthy = true;
  let retryAt = 0;
  const markDown = (err) => {
    retryAt = Date.now() + RETRY_AFTER_MS;
    if (!healthy) return;
    healthy = false;
    logger.warn(`postgres unreachable at ${where}: continuing without persistence (${describeError(err)})`);
  };
  const markUp = () => {
    if (healthy) return;
    healthy = true;
    logger.info(`postgres reachable again at ${where}: persistence enabled`);
  };
  // Idle clients emit 'error' when the server goes away; unhandled, that would crash the process.
  pool.on('error', markDown);

  async function createSchema() {
    const client = await pool.connect();
    // A checked-out client emits 'error' if its connection dies; the pool only listens to idle ones.
    client.on('error', markDown);
    try {
      // The advisory lock serialises concurrent start-ups: parallel CREATE ... IF NOT EXISTS can still collide.
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['chatbot-schema']);
      await client.query(SCHEMA);
      await client.query('COMMIT');
      client.removeListener('error', markDown);
      client.release();
    } catch (err) {
      client.removeListener('error', markDown);
      client.release(err); // discard the connection: its transaction state is unknown
      throw err;
    }
  }

  let schema = null;
  const ensureSchema = () =>
    (schema ??= createSchema().catch((err) => {
      schema = null;
      throw err;
    }));

  async function query(text, values) {
    if (!healthy && Date.now() < retryAt) throw new StoreUnavailableError('postgres unavailable');
    try {
      await ensureSchema();
      const result = await pool.query(text, values);
      markUp();
      return result;
    } catch (err) {
      markDown(err);
      throw new StoreUnavailableError(`postgres unavailable: ${describeError(err)}`, { cause: err });
    }
  }

  return {
    /** Creates the tables if missing. Never rejects: an unreachable database is logged and retried later. */
    async init() {
      try {
        await query('SELECT 1');
      } catch {
        // Already logged; the next write retries.
      }
    },
    /** Appends a message; resolves to its id, or null when it could not be stored. */
    async saveMessage(conversationId, role, content) {
      try {
        const { rows } = await query(INSERT_MESSAGE, [conversationId, role, content]);
        return rows[0].id;
      } catch {
        return null;
      }
    },
    /** Text of an assistant message, or null if there is none with that id. */
    async getAssistantMessage(id) {
      const { rows } = await query(`SELECT content FROM messages WHERE id = $1 AND role = 'assistant'`, [id]);
      return rows[0]?.content ?? null;
    },
    close: () => pool.end(),
  };
}

module.exports = { createStore, StoreUnavailableError };
