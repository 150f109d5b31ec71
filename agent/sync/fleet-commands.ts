/**
 * Administrators' commands as this device holds them: revoked virtual keys, the kill switch
 * (`pause-interception` tunnels AI hosts untouched, `block-ai` refuses every AI request and CONNECT,
 * `off` lifts either) and the device's own revocation. Each action kind is one entry of a registry
 * that turns the state into the next one. The state is kept in `<home>/gateway/commands.json`, so a
 * revoked key stays revoked and a kill switch stays on across a restart without the gateway (which
 * repeats the commands in force on every connect anyway).
 */
import path from 'node:path';
import { z } from 'zod';
import type { CommandAction, CommandMessage } from '../../shared/schema/protocol.js';
import type { Policy } from '../../shared/schema/policy.js';
import { readFileOrNull, writeFileAtomic } from '../system/files.js';

/** The kept state. */
export const commandState = z.strictObject({
  revokedKeys: z.array(z.string().min(1)).default([]),
  killSwitch: z.enum(['off', 'pause-interception', 'block-ai']).default('off'),
  /** The device itself was revoked: it no longer syncs. */
  deviceRevoked: z.boolean().default(false),
});
export type CommandState = z.infer<typeof commandState>;
export type KillSwitch = CommandState['killSwitch'];

/** How each action changes the state. */
const ACTIONS: { readonly [K in CommandAction['kind']]: (state: CommandState, action: Extract<CommandAction, { kind: K }>) => CommandState } = {
  'revoke-virtual-key': (s, a) => (s.revokedKeys.includes(a.virtualKeyId) ? s : { ...s, revokedKeys: [...s.revokedKeys, a.virtualKeyId].sort() }),
  'revoke-device': (s) => ({ ...s, deviceRevoked: true }),
  'kill-switch': (s, a) => ({ ...s, killSwitch: a.mode }),
};

/** The commands in force on this device. */
export class FleetCommands {
  private constructor(
    private readonly file: string,
    private current: CommandState,
  ) {}

  /** `<home>/gateway/commands.json`. */
  static path(home: string): string {
    return path.join(home, 'gateway', 'commands.json');
  }

  /** Loads the kept state; a missing file is the empty state, a damaged one is an error naming the file. */
  static async load(home: string): Promise<FleetCommands> {
    const file = FleetCommands.path(home);
    const text = await readFileOrNull(file);
    if (text === null) return new FleetCommands(file, commandState.parse({}));
    let parsed: CommandState;
    try {
      parsed = commandState.parse(JSON.parse(text));
    } catch (err) {
      throw new Error(`${file} is damaged (${(err as Error).message.split('\n')[0] ?? ''}): remove it; the gateway repeats the commands in force at the next connect`, { cause: err });
    }
    return new FleetCommands(file, parsed);
  }

  get state(): CommandState {
    return this.current;
  }

  /** Applies a command; resolves true when the state changed (and was kept). */
  async apply(command: Pick<CommandMessage, 'action'>): Promise<boolean> {
    const action = command.action;
    const next = (ACTIONS[action.kind] as (s: CommandState, a: CommandAction) => CommandState)(this.current, action);
    if (JSON.stringify(next) === JSON.stringify(this.current)) return false;
    await writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, 0o600);
    this.current = next;
    return true;
  }

  /** True while a kill switch pauses interception. */
  get paused(): boolean {
    return this.current.killSwitch === 'pause-interception';
  }

  /**
   * The policy as the gate enforces it under the commands: revoked keys marked revoked, and under
   * `block-ai` every intercepted host also blocked (blocked takes precedence: CONNECTs refused).
   */
  overlay(policy: Policy): Policy {
    const { revokedKeys, killSwitch } = this.current;
    if (revokedKeys.length === 0 && killSwitch !== 'block-ai') return policy;
    const revoked = new Set(revokedKeys);
    return {
      ...policy,
      virtualKeys: policy.virtualKeys.map((vk) => (revoked.has(vk.id) ? { ...vk, revoked: true } : vk)),
      interception:
        killSwitch === 'block-ai'
          ? { ...policy.interception, blockedHosts: [...new Set([...policy.interception.blockedHosts, ...policy.interception.hosts])] }
          : policy.interception,
    };
  }

  /** Lines for status `degraded` (the administrator's switches are worth a glance). */
  describe(): string[] {
    const out: string[] = [];
    if (this.current.killSwitch === 'pause-interception') out.push('gateway: an administrator paused interception on this device (kill switch): AI traffic passes unread');
    if (this.current.killSwitch === 'block-ai') out.push('gateway: an administrator blocked all AI traffic on this device (kill switch)');
    if (this.current.deviceRevoked) out.push('gateway: this device was revoked by an administrator; it no longer syncs: policy stays as last received, enroll again to rejoin');
    return out;
  }
}
