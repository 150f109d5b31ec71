/**
 * The agent's and the gateway's log: pino, JSON lines on stderr (stdout is for the CLI's own output). Call sites log
 * chosen fields only (never headers, bodies or keys); the redact list is a second line of defence.
 */
import { pino, type Logger } from 'pino';

/** Creates a logger (the agent's or the gateway's) at `level`. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['*.authorization', '*.apiKey', '*.key', '*.token', '*.password', 'headers', 'body'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
export type { Logger };
