/** Where the agent serves its PAC file: the running agent's address, else the config's fixed port. */
import type { ResolvedAgentConfig } from '../../config/load.js';
import { readRuntimeInfo } from '../../control/runtime.js';
import { SystemProxyError } from './types.js';

/** The PAC URL of the running agent, else the one the config's fixed port will serve. */
export async function pacUrlFor(config: ResolvedAgentConfig): Promise<string> {
  const running = await readRuntimeInfo(config.home);
  if (running !== null) return `${running.proxyUrl}/proxy.pac`;
  if (config.proxy.port === 0) throw new SystemProxyError('SYSTEM_PROXY_STATE', 'the agent is not running and its config has no fixed proxy port: start it first ("outpost start")');
  return `http://${config.proxy.host}:${config.proxy.port}/proxy.pac`;
}
