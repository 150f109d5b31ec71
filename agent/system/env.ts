/**
 * The environment that sends a shell's tools through the agent (`outpost env`, `outpost run`).
 * Pure: the values come in, the text goes out; tested without a shell.
 *
 * Two kinds of CA variables (FIELD-NOTES "Sending traffic to the agent"): `NODE_EXTRA_CA_CERTS` adds
 * to Node's roots, so it gets our CA alone; the others *replace* a tool's trust store, so they get the
 * bundle of the OS roots plus our CA, because hosts we do not intercept still present public chains.
 */

export type Shell = 'bash' | 'zsh' | 'fish' | 'powershell';
export const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish', 'powershell'];

/** What the variables point at. */
export interface ProxyTargets {
  /** `http://127.0.0.1:8787`: an http:// URL, because Copilot rejects https:// proxy URLs. */
  readonly proxyUrl: string;
  /** Our CA certificate alone (PEM). */
  readonly caFile: string;
  /** OS roots plus our CA (PEM). */
  readonly bundleFile: string;
}

/** Hosts that must never go through the proxy (OpenCode, for one, needs localhost here). */
const NO_PROXY = 'localhost,127.0.0.1,::1';

/** The variables, in a stable order. */
export function proxyEnvironment(t: ProxyTargets): Array<[string, string]> {
  return [
    ['HTTPS_PROXY', t.proxyUrl],
    ['https_proxy', t.proxyUrl],
    ['HTTP_PROXY', t.proxyUrl],
    ['http_proxy', t.proxyUrl],
    ['NO_PROXY', NO_PROXY],
    ['no_proxy', NO_PROXY],
    // Additive (Node, and so Claude Code, Copilot, the openai/anthropic JS SDKs).
    ['NODE_EXTRA_CA_CERTS', t.caFile],
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
  ];
}

function quotePosix(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The lines a shell evaluates (`eval "$(outpost env)"`). */
export function renderEnvironment(vars: ReadonlyArray<readonly [string, string]>, shell: Shell): string {
  const lines = vars.map(([name, value]) => {
    switch (shell) {
      case 'bash':
      case 'zsh':
        return `export ${name}=${quotePosix(value)}`;
      case 'fish':
        return `set -gx ${name} ${quotePosix(value)}`;
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
