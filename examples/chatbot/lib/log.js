'use strict';

/**
 * Plain one-line-per-event logger. Any object with info/warn/error(message) methods
 * (pino, console) can be passed to createApp() instead.
 */
function createLogger({ out = process.stdout, err = process.stderr } = {}) {
  const line = (stream, level) => (message) => {
    stream.write(`${new Date().toISOString()} ${level} chatbot: ${message}\n`);
  };
  return { info: line(out, 'info'), warn: line(err, 'warn'), error: line(err, 'error') };
}

/** Connection URL safe to log: the password is masked. */
function redactUrl(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Short reason for a failure. Connection errors to a dual-stack host are AggregateErrors with an empty message. */
function describeError(err) {
  return err?.message || err?.code || err?.errors?.[0]?.message || String(err);
}

module.exports = { createLogger, redactUrl, describeError };
