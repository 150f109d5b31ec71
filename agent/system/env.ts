/**
 * The environment that sends a shell's tools through the agent (`outpost env`, `outpost run`).
 * Pure: the values come in, the text goes out; tested without a shell.
 *
 * The CA variables all point at the bundle of the OS roots plus our CA (FIELD-NOTES "Sending traffic
 * to the agent"): most *replace* a tool's trust store, and hosts we do not intercept still present
 * their own chains (public or a company CA in the OS store); `NODE_EXTRA_CA_CERTS` adds to Node's
 * built-in roots, and gets the bundle too so Node trusts what the OS trusts. Node's global fetch also
 * needs a preload to follow `HTTPS_PROXY` at all (`node-proxy-preload.ts`).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Shell = 'bash' | 'zsh' | 'fish' | 'powershell';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish', 'powershell'];

/** What the variables point at. */
export interface ProxyTargets {
  /**
   * The Node preload that sends the global fetch through the proxy (`node-proxy-preload.ts`), added
   * to `NODE_OPTIONS`; null leaves `NODE_OPTIONS` alone.
   */
  readonly nodePreload?: string | null;
  /** `NODE_OPTIONS` as it was before, kept after ours. */
  readonly nodeOptions?: string;
  /** `http://127.0.0.1:8787`: an http:// URL, because Copilot rejects https:// proxy URLs. */
  readonly proxyUrl: string;
  /** Our CA certificate alone (PEM). */
  readonly caFile: string;
  /** OS roots plus our CA (PEM). */
  readonly bundleFile: string;
}

/** Hosts that must never go through the proxy (OpenCode, for one, needs localhost here). */
const NO_PROXY = 'localhost,127.0.0.1,::1';

/** The preload file shipped beside this module (`dist/agent/system/node-proxy-preload.js` once built). */
export function nodePreloadPath(): string {
  return fileURLToPath(new URL('./node-proxy-preload.js', import.meta.url));
}

/**
 * `NODE_OPTIONS` with our preload first, the user's options after it (once: running `outpost env`
 * twice does not add it twice). Node splits `NODE_OPTIONS` on spaces and honours double quotes.
 */
export function nodeOptionsWithPreload(preload: string, existing = ''): string {
  const ours = `--import "${pathToFileURL(preload).href.replaceAll('"', '%22')}"`;
  if (existing.includes(ours)) return existing;
  return existing.trim() === '' ? ours : `${ours} ${existing.trim()}`;
}

/** The variables, in a stable order. */
export function proxyEnvironment(t: ProxyTargets): Array<[string, string]> {
  const node: Array<[string, string]> =
    t.nodePreload === undefined || t.nodePreload === null
      ? []
      : [
          // Node 20's global fetch ignores HTTPS_PROXY: the preload routes it (newer Node also reads NODE_USE_ENV_PROXY).
          ['NODE_OPTIONS', nodeOptionsWithPreload(t.nodePreload, t.nodeOptions)],
          ['NODE_USE_ENV_PROXY', '1'],
        ];
  return [
    ['HTTPS_PROXY', t.proxyUrl],
    ['https_proxy', t.proxyUrl],
    ['HTTP_PROXY', t.proxyUrl],
    ['http_proxy', t.proxyUrl],
    ['NO_PROXY', NO_PROXY],
    ['no_proxy', NO_PROXY],
    // Additive (Node, and so Claude Code, Copilot, the openai/anthropic JS SDKs). The bundle, not our
    // CA alone: Node trusts only its built-in roots, so a company CA in the OS store would otherwise
    // fail under Outpost where curl and Python (pointed at the same bundle) succeed.
    ['NODE_EXTRA_CA_CERTS', t.bundleFile],
    // Replacing: OpenSSL-based tools, Python requests/httpx, curl, git, AWS CLI, Codex CLI, Deno.
    ['SSL_CERT_FILE', t.bundleFile],
    ['REQUESTS_CA_BUNDLE', t.bundleFile],
    ['CURL_CA_BUNDLE', t.bundleFile],
    ['GIT_SSL_CAINFO', t.bundleFile],
    ['AWS_CA_BUNDLE', t.bundleFile],
    ['CODEX_CA_CERTIFICATE', t.bundleFile],
    ['DENO_CERT', t.bundleFile],
    ['PIP_CERT', t.bundleFile],
    ['NPM_CONFIG_CAFILE', t.bundleFile],
    // gRPC ships its own roots (the C core under Python's grpcio, Ruby, PHP, C++; Node's grpc-js
    // too) and reads this instead: Google's Cloud SDKs speak gRPC through the agent (issue 18).
    ['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', t.bundleFile],
    ...node,
  ];
}

function quotePosix(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** fish's single quotes take two escapes, a backslash before a quote or a backslash; every other character is literal. */
function quoteFish(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

/** The lines a shell evaluates (`eval "$(outpost env)"`). */
export function renderEnvironment(vars: ReadonlyArray<readonly [string, string]>, shell: Shell): string {
  const lines = vars.map(([name, value]) => {
    switch (shell) {
      case 'bash':
      case 'zsh':
        return `export ${name}=${quotePosix(value)}`;
      case 'fish':
        return `set -gx ${name} ${quoteFish(value)}`;
      case 'powershell':
        return `$env:${name} = '${value.replaceAll("'", "''")}'`;
      default: {
        const never: never = shell;
        return never;
      }
    }
  });
  return `${lines.join('\n')}\n`;
}
