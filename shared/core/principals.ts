/**
 * Who a request is charged to. With a virtual key, the key (and through its owner, a team or user);
 * without one, the enrolled user and device. The scopes list every budget level that applies, from
 * the organisation down: org → team(s) → user → (device) → virtual key.
 */
import type { CompiledVirtualKey } from './virtual-keys.js';

/** The enrolled identity of this machine. */
export interface Identity {
  readonly device: string;
  readonly user: string;
}

/** The principal of one request. */
export interface Principal {
  /** `vk:ID`, or `user:NAME` without a virtual key. */
  readonly id: string;
  readonly vk: CompiledVirtualKey | null;
  /** Scope refs from broadest to narrowest (`org`, `team:X`, `user:X`, `device:X`, `vk:X`). */
  readonly scopes: readonly string[];
}

/** Reverse index of `teams`: member ref → team names. */
export function indexTeams(teams: Readonly<Record<string, readonly string[]>>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [team, members] of Object.entries(teams)) {
    for (const m of members) {
      const list = out.get(m);
      if (list) list.push(team);
      else out.set(m, [team]);
    }
  }
  return out;
}

/** Resolves principals for one policy version; results without a virtual key are cached. */
export class PrincipalResolver {
  private readonly cache = new Map<string, Principal>();

  constructor(
    private readonly teamsOf: ReadonlyMap<string, readonly string[]>,
    private readonly identity: Identity,
  ) {}

  /** The principal for a request carrying `vk` (or none). */
  resolve(vk: CompiledVirtualKey | null): Principal {
    const key = vk === null ? '' : vk.id;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const p = vk === null ? this.user() : this.forKey(vk);
    this.cache.set(key, p);
    return p;
  }

  private user(): Principal {
    const user = `user:${this.identity.user}`;
    const device = `device:${this.identity.device}`;
    const teams = new Set([...(this.teamsOf.get(user) ?? []), ...(this.teamsOf.get(device) ?? [])]);
    return { id: user, vk: null, scopes: ['org', ...[...teams].map((t) => `team:${t}`), user, device] };
  }

  private forKey(vk: CompiledVirtualKey): Principal {
    const own = `vk:${vk.id}`;
    const scopes = ['org'];
    if (vk.owner.startsWith('team:')) scopes.push(vk.owner);
    else {
      for (const t of this.teamsOf.get(vk.owner) ?? []) scopes.push(`team:${t}`);
      for (const t of this.teamsOf.get(own) ?? []) if (!scopes.includes(`team:${t}`)) scopes.push(`team:${t}`);
      if (vk.owner !== 'org') scopes.push(vk.owner);
    }
    scopes.push(own);
    return { id: own, vk, scopes };
  }
}
