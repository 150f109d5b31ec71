/**
 * The browser half of `outpost enroll --sso` (RFC 8252, OAuth for native apps): the agent listens on
 * a loopback port, sends the browser to the gateway's `/v1/agents/enroll/sso` with a random state and
 * the S256 challenge of a PKCE verifier, and waits for the gateway to send the browser back with a
 * one-time enrollment code. The verifier never leaves this process until the enrollment itself, so
 * another program that sees the redirect cannot use the code.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SyncError } from './errors.js';
import { gatewayAddress } from './gateway-address.js';

/** What the sign-in gives the enrollment. */
export interface SsoCode {
  /** The one-time enrollment token the gateway issued for the signed-in person. */
  readonly code: string;
  /** The PKCE verifier the gateway checks the code against. */
  readonly codeVerifier: string;
}

/** How the sign-in reaches the person. */
export interface SsoSignInOptions {
  /** Opens (or shows) the sign-in URL; the agent waits after it returns. */
  readonly open: (url: string) => Promise<void> | void;
  /** How long to wait for the browser (default 5 minutes). */
  readonly timeoutMs?: number;
}

/** The page the browser shows once it is back (plain text, nothing to load). */
function finishPage(res: http.ServerResponse, status: number, text: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outpost</title></head><body><main><h1>${text}</h1><p>You can close this window.</p></main></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'", 'cache-control': 'no-store', connection: 'close' });
  res.end(html);
}

/** Runs the browser sign-in against the gateway at `gatewayUrl`; resolves with the code and verifier. */
export async function ssoSignIn(gatewayUrl: string, options: SsoSignInOptions): Promise<SsoCode> {
  const address = gatewayAddress(gatewayUrl);
  const state = crypto.randomBytes(24).toString('base64url');
  const codeVerifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(codeVerifier).digest('base64url');

  let settle!: { resolve: (code: string) => void; reject: (err: Error) => void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404, { connection: 'close' }).end();
      return;
    }
    // A request without our state is someone else's (another page poking the port): ignored, still waiting.
    if (url.searchParams.get('state') !== state) {
      finishPage(res, 400, 'This sign-in link is not the one Outpost is waiting for.');
      return;
    }
    const code = url.searchParams.get('code');
    if (code === null) {
      finishPage(res, 200, 'Sign-in did not complete.');
      settle.reject(new SyncError('SYNC_SSO_SIGN_IN', `the gateway's sign-in did not complete (${url.searchParams.get('error') ?? 'no code'}): try again, or ask your administrator for an enrollment token`));
      return;
    }
    finishPage(res, 200, 'Signed in. Outpost is enrolling this device.');
    settle.resolve(code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const timer = setTimeout(() => settle.reject(new SyncError('SYNC_SSO_SIGN_IN', `no sign-in came back within ${Math.round(timeoutMs / 1000)} seconds: run outpost enroll --sso again`)), timeoutMs);
  try {
    const params = new URLSearchParams({ redirect_uri: `http://127.0.0.1:${port}/callback`, state, code_challenge: challenge, code_challenge_method: 'S256' });
    await options.open(`${address.url}/v1/agents/enroll/sso?${params.toString()}`);
    return { code: await result, codeVerifier };
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
