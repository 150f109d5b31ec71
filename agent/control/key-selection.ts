/**
 * The virtual key the user picked in the tray (`POST /v1/virtual-key`): requests that carry no
 * virtual key of their own run as it (the core's `RequestFacts.selectedKeyId`). Only a key this user
 * may pick (owned by them, their device, one of their teams or the org, and not revoked) can be
 * picked; the pick is kept in the agent's store across restarts.
 */
import type { Governor } from '../../shared/core/decide.js';
import { OutpostError } from '../../shared/errors.js';

/** Where the pick is kept (the agent's state store). */
export interface SettingsStore {
  setting(name: string): string | null;
  saveSetting(name: string, value: string | null): void;
}

/** A key this user may not pick. */
export class KeySelectionError extends OutpostError<'virtual_key_not_selectable'> {
  override readonly name = 'KeySelectionError';
}

const SETTING = 'tray.virtualKey';

/** The policy's virtual keys owned by this user, their device, one of their teams or the org (revoked ones too). */
export function ownKeys(governor: Governor): Governor['compiled']['policy']['virtualKeys'] {
  const cp = governor.compiled;
  const mine = new Set(cp.principals.resolve(null).scopes);
  return cp.policy.virtualKeys.filter((vk) => mine.has(vk.owner));
}

/** The ids of the keys this user may pick under the governor's policy. */
export function pickableKeys(governor: Governor): string[] {
  return ownKeys(governor)
    .filter((vk) => !vk.revoked)
    .map((vk) => vk.id);
}

/** The pick, in memory and in the store. */
export class KeySelection {
  private id: string | null;

  constructor(
    private readonly store: SettingsStore,
    private readonly governor: () => Governor,
  ) {
    let saved: string | null = null;
    try {
      saved = store.setting(SETTING);
    } catch {
      // An unreadable store: start with no pick (requests then run as the user, as before picking).
    }
    this.id = saved;
  }

  /** The picked key when it still applies under the policy in force; else null. */
  current(): string | null {
    return this.id !== null && pickableKeys(this.governor()).includes(this.id) ? this.id : null;
  }

  /** The raw pick, for the hot path (the core checks it applies). */
  get picked(): string | null {
    return this.id;
  }

  /** Picks `id` (null: none); throws `KeySelectionError` for a key this user may not pick. */
  select(id: string | null): string | null {
    if (id !== null && !pickableKeys(this.governor()).includes(id)) {
      throw new KeySelectionError('virtual_key_not_selectable', `"${id}" is not a virtual key you can choose: pick one listed by GET /v1/budgets`);
    }
    this.store.saveSetting(SETTING, id);
    this.id = id;
    return id;
  }
}
