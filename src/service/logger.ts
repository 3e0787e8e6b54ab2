import pino, { type Logger } from 'pino';

/**
 * The health service's structured logger: JSON lines on stderr (the host app owns stdout),
 * debug level with DEBUG_MONITORING=true.
 */
export function createLogger(debug: boolean): Logger {
  return pino({ name: 'chatpulse', level: debug ? 'debug' : 'info' }, pino.destination({ dest: 2, sync: false }));
}
