/** Whether an administrator's command reaches a device. */
import type { CommandScope } from '../../shared/schema/protocol.js';
import type { DeviceRow } from '../store/store.js';

/** True when `scope` covers `device`. */
export function commandApplies(scope: CommandScope, device: Pick<DeviceRow, 'id' | 'team'>): boolean {
  switch (scope.kind) {
    case 'device':
      return scope.deviceId === device.id;
    case 'team':
      return scope.team === device.team;
    case 'everyone':
      return true;
    default: {
      const never: never = scope;
      return never;
    }
  }
}
