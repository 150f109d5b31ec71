/**
 * A real OpenID provider for tests: `oidc-provider` on 127.0.0.1:0 with test users (password and
 * groups), its own small login page (a user name, a password, a "Sign in" button), consent granted
 * without asking, and PKCE required. `signInOverHttp` walks a sign-in the way a browser would, with a
 * real HTTP client that follows redirects and keeps cookies per host.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { closeServer } from './ports.js';

/** A person the provider knows. */
export interface TestUser {
  readonly password: string;
  readonly email: string;
  readonly groups: readonly string[];
}

/** A running provider. */
export interface TestIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Registers the relying party's redirect URIs (known once the gateway listens) and starts answering. */
  register(redirectUris: readonly string[]): void;
  /** How many logins the provider refused (a wrong password). */
  readonly refusedLogins: () => number;
  close(): Promise<void>;
}

function loginPage(action: string, error: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head><body><main>
<h1>Test identity provider</h1>${error === null ? '' : `<p role="alert">${error}</p>`}
<form method="post" action="${action}">
<label for="login">User name</label><input id="login" name="login" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
</form></main></body></html>`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Starts the provider with `users` (login → user). `host` names it in the issuer URL: `localhost`
 * makes it another site than a gateway on 127.0.0.1 (a browser then applies SameSite for real).
 */
export async function startTestIdp(users: Readonly<Record<string, TestUser>>, host: '127.0.0.1' | 'localhost' = '127.0.0.1'): Promise<TestIdp> {
  let provider: Provider | null = null;
  let refused = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      if (provider === null) {
        res.writeHead(503).end('not registered yet');
        return;
      }
      const m = /^\/interaction\/([^/?]+)/.exec(req.url ?? '');
      if (m === null) {
        provider.callback()(req, res);
        return;
      }
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(`/interaction/${details.uid}`, null));
        return;
      }
      const form = await readForm(req);
      const login = form.get('login') ?? '';
      const user = Object.hasOwn(users, login) ? users[login] : undefined;
      if (user === undefined || user.password !== form.get('password')) {
        refused += 1;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(`/interaction/${details.uid}`, 'Wrong user name or password.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end((err as Error).message);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  const clientId = 'outpost-console';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  return {
    issuer,
    clientId,
    clientSecret,
    refusedLogins: () => refused,
    register(redirectUris) {
      const configuration: Configuration = {
        clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [...redirectUris], grant_types: ['authorization_code'], response_types: ['code'] }],
        scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
        findAccount: (_ctx, id) => {
          const user = Object.hasOwn(users, id) ? users[id] : undefined;
          if (user === undefined) return undefined;
          return { accountId: id, claims: () => ({ sub: id, email: user.email, email_verified: true, name: id, groups: [...user.groups] }) };
        },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        cookies: { keys: ['outpost-test-idp-cookie-key'] },
        jwks: { keys: [{ ...signingKey.export({ format: 'jwk' }), kid: 'test-idp', use: 'sig', alg: 'RS256' }] },
        // Consent is given without asking: the company's own console.
        loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
          const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
          if (grantId) return ctx.oidc.provider.Grant.find(grantId);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
          grant.addOIDCScope('openid email profile groups');
          await grant.save();
          return grant;
        },
      };
      provider = new Provider(issuer, configuration);
    },
    close: () => closeServer(server),
  };
}

/** Cookies per host, as a browser keeps them (name=value only; enough for these flows). */
class CookieJar {
  private readonly byHost = new Map<string, Map<string, string>>();

  store(url: URL, res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const jar = this.byHost.get(url.host) ?? new Map<string, string>();
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
      this.byHost.set(url.host, jar);
    }
  }

  header(url: URL): string {
    return [...(this.byHost.get(url.host) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(host: string, name: string): string | undefined {
    return this.byHost.get(host)?.get(name);
  }
}

/** Where a sign-in walk ended. */
export interface SignInWalk {
  /** The last response's URL and status, and its body. */
  readonly url: URL;
  readonly status: number;
  readonly body: string;
  /** Every URL visited, in order. */
  readonly visited: readonly string[];
  readonly jar: CookieJar;
}

/**
 * Follows a sign-in from `startUrl`: redirects (keeping cookies per host), the provider's login form
 * (filled with `login` and `password`), until a page that is neither. Stops at `stopAt` when a URL starts with it.
 */
export async function signInOverHttp(startUrl: string, login: string, password: string, stopAt?: string): Promise<SignInWalk> {
  const jar = new CookieJar();
  const visited: string[] = [];
  let url = new URL(startUrl);
  let init: RequestInit = {};
  let submitted = false;
  for (let hop = 0; hop < 20; hop++) {
    visited.push(url.href);
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie !== '') headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      url = new URL(location, url);
      init = {};
      if (stopAt !== undefined && url.href.startsWith(stopAt)) return { url, status: res.status, body: '', visited: [...visited, url.href], jar };
      continue;
    }
    const body = await res.text();
    const form = /<form method="post" action="([^"]+)">[\s\S]*name="login"/.exec(body);
    if (form !== null && !submitted) {
      submitted = true;
      url = new URL(form[1]!, url);
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ login, password }).toString() };
      continue;
    }
    return { url, status: res.status, body, visited, jar };
  }
  throw new Error(`sign-in did not settle after 20 hops: ${visited.join(' -> ')}`);
}
