/** The agent's log: the shared pino logger (shared/log.ts), re-exported where the agent's parts look for it. */
export { createLogger, type Logger } from '../shared/log.js';
