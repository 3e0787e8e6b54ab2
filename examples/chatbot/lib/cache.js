'use strict';

const Redis = require('ioredis');
const { redactUrl, describeError } = require('./log');

/**
 * Redis-backed cache that degrades to "always miss" while Redis is unreachable, so the
 * chatbot keeps answering (slower) instead of failing. Logs one line per outage.
 */
function createCache({ url, keyPrefix, logger }) {
  const where = redactUrl(url);
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect: true, // connect() below lets start-up wait for the first attempt
    enableOfflineQueue: false, // while disconnected, fail lookups at once instead of queueing them
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500, // a slow cache must not stall the stream
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 30_000), // keep reconnecting, backing off to 30 s
  });

  let healthy = true;
  const markDown = (err) => {
    if (!healthy) return;
    healthy = false;
    logger.warn(`redis unreachable at ${where}: continuing without cache (${describeError(err)})`);
  };
  const markUp = () => {
    if (healthy) return;
    healthy = true;
    logger.info(`redis reachable again at ${where}: cache enabled`);
  };
  // ioredis emits 'error' on every failed reconnect; without a listener it would print each one.
  redis.on('error', markDown);
  redis.on('ready', markUp);

  async function command(run, fallback) {
    if (redis.status !== 'ready') return fallback;
    try {
      const result = await run();
      markUp();
      return result;
    } catch (err) {
      markDown(err);
      return fallback;
    }
  }

  return {
    /** Resolves once the first connection attempt settled; failures are logged by the 'error' listener. */
    connect: () => redis.connect().catch(() => {}),
    get: (key) => command(() => redis.get(key), null),
    getBuffer: (key) => command(() => redis.getBuffer(key), null),
    set: (key, value, ttlSeconds) => command(() => redis.set(key, value, 'EX', ttlSeconds), null),
    async close() {
      // QUIT needs a live connection; otherwise just stop reconnecting.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}

module.exports = { createCache };
