/**
 * Administrators' commands: revoke a virtual key, revoke a device, kill switch (pause interception
 * or block all AI) for a device, a team or everyone. Each is stored (so a device that connects later
 * still gets those in force), written to the admin audit trail, and announced to every replica.
 */
import crypto from 'node:crypto';
import type { CommandAction, CommandScope } from '../../shared/schema/protocol.js';
import type { CommandRow, GatewayStore } from '../store/store.js';
import { ApiHttpError } from '../http/errors.js';
import { scopeKey } from '../store/rows.js';

/** Issues commands. */
export class CommandIssuer {
  constructor(private readonly store: GatewayStore) {}

  /** Validates the target, stores and announces the command (`who` for the admin audit trail); answers it. */
  async issue(scope: CommandScope, action: CommandAction, who: string, now = new Date()): Promise<CommandRow> {
    if (scope.kind === 'device' && (await this.store.device(scope.deviceId)) === null) {
      throw new ApiHttpError(404, 'not_found', `$.scope.deviceId: there is no device "${scope.deviceId}"`);
    }
    if (action.kind === 'revoke-device' && scope.kind !== 'device') {
      throw new ApiHttpError(400, 'invalid_request', '$.scope.kind: revoke-device needs a "device" scope (one device at a time)', [
        { path: '$.scope.kind', message: 'revoke-device needs a "device" scope' },
      ]);
    }
    const command: CommandRow = { id: `cmd-${crypto.randomUUID()}`, issuedAt: now.toISOString(), scope, action };
    const before = await this.stateBefore(scope, action);
    await this.store.addCommand(command);
    if (action.kind === 'revoke-device' && scope.kind === 'device') await this.store.revokeDevice(scope.deviceId);
    await this.store.addAdminEvent({ time: command.issuedAt, who, action: `command.${action.kind}`, detail: { id: command.id, scope, action }, before, after: stateAfter(action) });
    await this.store.publish({ kind: 'command', id: command.id });
    return command;
  }

  /** What the command changes, as it was: the scope's kill-switch mode, or whether the key or device was revoked. */
  private async stateBefore(scope: CommandScope, action: CommandAction): Promise<Record<string, unknown>> {
    if (action.kind === 'revoke-device') return { revoked: scope.kind === 'device' ? ((await this.store.device(scope.deviceId))?.revoked ?? false) : false };
    const inForce = await this.store.commandsInForce();
    if (action.kind === 'revoke-virtual-key') {
      return { revoked: inForce.some((c) => c.action.kind === 'revoke-virtual-key' && c.action.virtualKeyId === action.virtualKeyId) };
    }
    const current = inForce.find((c) => c.action.kind === 'kill-switch' && scopeKey(c.scope) === scopeKey(scope));
    return { mode: current?.action.kind === 'kill-switch' ? current.action.mode : 'off' };
  }
}

/** The state a command leaves (the admin audit trail's "after"). */
function stateAfter(action: CommandAction): Record<string, unknown> {
  return action.kind === 'kill-switch' ? { mode: action.mode } : { revoked: true };
}
