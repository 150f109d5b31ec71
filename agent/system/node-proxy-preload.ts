/**
 * Loaded into Node programs run under `outpost run` / `outpost env` (`NODE_OPTIONS=--import …`):
 * Node 20's global fetch ignores `HTTPS_PROXY` (FIELD-NOTES), and the openai SDK v6 and most new
 * Node tools use it, so without this their traffic would go around the agent. Installs undici's
 * `EnvHttpProxyAgent` as the global dispatcher (the one the built-in fetch reads too), which
 * follows `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` as curl does. Never breaks the program it is loaded
 * into: when undici cannot be loaded, the program runs as it would without Outpost.
 */
try {
  const { EnvHttpProxyAgent, setGlobalDispatcher } = await import('undici');
  if (process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy) setGlobalDispatcher(new EnvHttpProxyAgent());
} catch {
  // Nothing to do: the program's own proxy handling (if any) still applies.
}
export {};
