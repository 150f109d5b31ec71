/**
 * From the identity provider's claims to a console identity: the user from the configured claim, and
 * roles and teams from the groups claim through the config's group mappings. Pure, so the mapping
 * rules are tested without a provider.
 */
import type { ConsoleRole } from '../../../shared/schema/console.js';
import type { OidcConfig } from '../../../shared/schema/gateway-config.js';
import { OutpostError } from '../../../shared/errors.js';

/** Who signed in, and what the console lets them do. */
export interface OidcIdentity {
  readonly user: string;
  readonly groups: readonly string[];
  readonly roles: readonly ConsoleRole[];
  readonly teams: readonly string[];
}

/** Why claims gave no usable identity. */
export class IdentityClaimError extends OutpostError<'OIDC_USER_CLAIM_MISSING'> {
  override readonly name = 'IdentityClaimError';
  constructor(message: string) {
    super('OIDC_USER_CLAIM_MISSING', message);
  }
}

/** The groups claim as a list (a provider may send one group as a string). */
export function groupsOf(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = claims[claim];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  return [];
}

/** Maps claims to an identity; throws `IdentityClaimError` when the user claim is missing. */
export function identityFromClaims(claims: Readonly<Record<string, unknown>>, config: Pick<OidcConfig, 'userClaim' | 'groupsClaim' | 'roles' | 'teams'>): OidcIdentity {
  const user = claims[config.userClaim];
  if (typeof user !== 'string' || user.trim() === '') throw new IdentityClaimError(`the identity provider sent no "${config.userClaim}" claim (console.oidc.userClaim)`);
  const groups = groupsOf(claims, config.groupsClaim);
  const roles = new Set<ConsoleRole>();
  const teams = new Set<string>();
  for (const group of groups) {
    for (const role of Object.hasOwn(config.roles, group) ? (config.roles[group] ?? []) : []) roles.add(role);
    for (const team of Object.hasOwn(config.teams, group) ? (config.teams[group] ?? []) : []) teams.add(team);
  }
  return { user: user.trim(), groups, roles: [...roles].sort(), teams: [...teams].sort() };
}
