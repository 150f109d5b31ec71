/**
 * The gateway as an OpenID Connect relying party (`openid-client`): discovery of the provider (once,
 * retried after a failure), the authorization URL with PKCE (S256), state and nonce, and the code
 * exchange with every check the library makes (state, nonce, issuer, audience, signature). Groups the
 * ID token lacks are read from the userinfo endpoint.
 */
import * as oidc from 'openid-client';
import type { OidcConfig } from '../../../shared/schema/gateway-config.js';
import { OutpostError } from '../../../shared/errors.js';
import { isLoopbackHostname } from '../../../shared/protocol/loopback.js';
import { readSecretSource } from '../../secret-source.js';

/** Codes of a sign-in that could not complete. */
export type OidcErrorCode = 'OIDC_DISCOVERY' | 'OIDC_CLIENT_SECRET' | 'OIDC_CALLBACK';

/** A sign-in step that failed (the message never carries a code, token or secret). */
export class OidcError extends OutpostError<OidcErrorCode> {
  override readonly name = 'OidcError';
}

/** What the gateway keeps between sending the browser away and its return. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
}

/** The relying party for one configured provider. */
export class OidcRelyingParty {
  private discovered: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly config: OidcConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The provider's configuration, discovered once; a failure is retried on the next sign-in. */
  private configuration(): Promise<oidc.Configuration> {
    this.discovered ??= this.discover().catch((err: unknown) => {
      this.discovered = null;
      throw err;
    });
    return this.discovered;
  }

  private async discover(): Promise<oidc.Configuration> {
    let auth = oidc.None();
    if (this.config.clientSecret !== null) {
      const secret = await readSecretSource(this.config.clientSecret, this.env);
      if (secret === null) throw new OidcError('OIDC_CLIENT_SECRET', `the OpenID client secret (${'env' in this.config.clientSecret ? `environment variable ${this.config.clientSecret.env}` : `file ${this.config.clientSecret.file}`}) is unset or empty`);
      auth = oidc.ClientSecretBasic(secret);
    }
    const issuer = new URL(this.config.issuer);
    // Plain HTTP only to a provider on this machine (tests, a local proxy); the schema refuses the rest.
    const execute = issuer.protocol === 'http:' && isLoopbackHostname(issuer.hostname) ? [oidc.allowInsecureRequests] : [];
    try {
      return await oidc.discovery(issuer, this.config.clientId, undefined, auth, { execute, timeout: 10 });
    } catch (err) {
      throw new OidcError('OIDC_DISCOVERY', `cannot read the OpenID configuration of ${issuer.href}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Where to send the browser, and what to keep until it returns to `redirectUri`. */
  async start(redirectUri: string): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.configuration();
    const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), redirectUri };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: ['openid', ...this.config.scopes.filter((s) => s !== 'openid')].join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /** Exchanges the code the browser brought back; answers the person's claims (ID token, with userinfo for missing groups). */
  async finish(callbackUrl: URL, pending: PendingLogin): Promise<Record<string, unknown>> {
    const config = await this.configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims: Record<string, unknown> = { ...tokens.claims() };
      if (claims[this.config.groupsClaim] === undefined || claims[this.config.userClaim] === undefined) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        return { ...info, ...claims, [this.config.groupsClaim]: claims[this.config.groupsClaim] ?? info[this.config.groupsClaim], [this.config.userClaim]: claims[this.config.userClaim] ?? info[this.config.userClaim] };
      }
      return claims;
    } catch (err) {
      throw new OidcError('OIDC_CALLBACK', `the sign-in could not be completed with the identity provider: ${(err as Error).message}`, { cause: err });
    }
  }
}
