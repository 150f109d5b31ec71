/** The agent's version, reported in `--version`, the sync `hello` and audit records. */
export const AGENT_VERSION = '0.1.0';
