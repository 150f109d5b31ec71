import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { identityFromClaims } from '../../../gateway/console-auth/oidc/identity.js';
import { SealedCookie } from '../../../gateway/console-auth/oidc/sealed-cookie.js';
import { oidcConfig } from '../../../shared/schema/gateway-config.js';

const config = { userClaim: 'email', groupsClaim: 'groups', roles: { admins: ['admin' as const], audit: ['auditor' as const], leads: ['team-admin' as const, 'auditor' as const] }, teams: { leads: ['red', 'blue'], 'blue-leads': ['blue'] } };

describe('groups to roles and teams', () => {
  it('unions the roles and teams of every group, ignores unknown groups, and accepts one group as a string', () => {
    expect(identityFromClaims({ email: 'a@x', groups: ['leads', 'blue-leads', 'other'] }, config)).toEqual({ user: 'a@x', groups: ['leads', 'blue-leads', 'other'], roles: ['auditor', 'team-admin'], teams: ['blue', 'red'] });
    expect(identityFromClaims({ email: 'a@x', groups: 'admins' }, config).roles).toEqual(['admin']);
    expect(identityFromClaims({ email: 'a@x' }, config)).toMatchObject({ roles: [], teams: [] });
  });

  it('does not treat inherited object names as groups', () => {
    expect(identityFromClaims({ email: 'a@x', groups: ['toString', 'constructor', '__proto__'] }, config)).toMatchObject({ roles: [], teams: [] });
  });

  it('needs the user claim', () => {
    expect(() => identityFromClaims({ groups: ['admins'] }, config)).toThrow(/"email" claim/);
    expect(() => identityFromClaims({ email: ' ', groups: ['admins'] }, config)).toThrow(/"email" claim/);
  });

  it('takes an https issuer, or http on loopback only, and never a role it does not know', () => {
    const base = { clientId: 'c' };
    expect(oidcConfig.safeParse({ ...base, issuer: 'https://idp.example.com' }).success).toBe(true);
    expect(oidcConfig.safeParse({ ...base, issuer: 'http://127.0.0.1:9000' }).success).toBe(true);
    expect(oidcConfig.safeParse({ ...base, issuer: 'http://idp.example.com' }).success).toBe(false);
    expect(oidcConfig.safeParse({ ...base, issuer: 'https://idp.example.com', roles: { g: ['superuser'] } }).success).toBe(false);
  });
});

describe('the sealed login-state cookie', () => {
  const schema = z.strictObject({ state: z.string() });

  it('opens what it sealed until it expires, and nothing sealed under another secret or altered', () => {
    const a = new SealedCookie('admin-token-one-0123456789', 'purpose', schema);
    const text = a.seal({ state: 's1' }, 2_000);
    expect(a.open(text, 1_000)).toEqual({ state: 's1' });
    expect(a.open(text, 2_000)).toBeNull();
    expect(new SealedCookie('admin-token-two-0123456789', 'purpose', schema).open(text, 1_000)).toBeNull();
    expect(new SealedCookie('admin-token-one-0123456789', 'other purpose', schema).open(text, 1_000)).toBeNull();
    const raw = Buffer.from(text, 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(a.open(raw.toString('base64url'), 1_000)).toBeNull();
    expect(a.open('short', 1_000)).toBeNull();
  });
});
