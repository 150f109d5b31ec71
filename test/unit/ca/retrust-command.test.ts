import { describe, expect, it } from 'vitest';
import { retrustCommand } from '../../../agent/ca/trust/retrust.js';

const system = { store: 'linux-system', description: 'system bundle', error: 'EACCES: permission denied' };
const nss = { store: 'nss:/home/u/.pki/nssdb', description: 'NSS database', error: 'certutil failed' };
const user = { platform: 'linux' as const, isRoot: false, configFile: null };

describe('the command that finishes a pending re-trust', () => {
  it('is none when nothing is pending', () => {
    expect(retrustCommand([], user)).toBeNull();
  });

  it('asks for sudo for the system store, and passes the agent config on (quoted when needed)', () => {
    expect(retrustCommand([system], user)).toBe('sudo outpost ca trust');
    expect(retrustCommand([system], { ...user, configFile: '/etc/outpost/agent.json' })).toBe('sudo outpost ca trust --config /etc/outpost/agent.json');
    expect(retrustCommand([system], { ...user, configFile: "/home/o'neil/my agent.json" })).toBe(`sudo outpost ca trust --config '/home/o'\\''neil/my agent.json'`);
  });

  it('runs the user stores as the user: sudo would trust root\'s own NSS databases instead', () => {
    expect(retrustCommand([nss], user)).toBe('outpost ca trust --user-only');
    expect(retrustCommand([system, nss], user)).toBe('sudo outpost ca trust && outpost ca trust --user-only');
  });

  it('drops sudo where the agent already runs as root, and on Windows (an elevated prompt instead)', () => {
    expect(retrustCommand([system, nss], { ...user, isRoot: true })).toBe('outpost ca trust');
    expect(retrustCommand([{ ...system, store: 'windows-localmachine-root' }], { ...user, platform: 'win32' })).toBe('outpost ca trust');
  });
});
