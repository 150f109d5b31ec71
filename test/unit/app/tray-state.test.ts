import { describe, expect, it } from 'vitest';
import { retrustAction, trayView } from '../../../app/view-model/tray-state.js';

describe('the tray view', () => {
  it('shows protection and counts blocked requests', () => {
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 3 })).toEqual({
      icon: 'ok',
      tooltip: 'Outpost: protecting AI traffic (3 requests blocked today)',
      statusLine: 'Protected · 3 requests blocked today',
    });
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 1 }).statusLine).toBe('Protected · 1 request blocked today');
  });

  it('puts degradation before pause, and warns when the agent is gone', () => {
    expect(trayView({ kind: 'running', paused: true, degraded: 'audit store full', blockedToday: 0 }).icon).toBe('warning');
    expect(trayView({ kind: 'running', paused: true, degraded: null, blockedToday: 0 }).icon).toBe('paused');
    expect(trayView({ kind: 'unreachable', since: 0 }).statusLine).toBe('Agent not running');
  });

  it('asks the user to run the re-trust command the agent could not run itself, before anything else', () => {
    const action = retrustAction({ pending: [{ store: 'linux-system', description: 'system bundle', error: 'EACCES' }], command: 'sudo outpost ca trust' });
    expect(action).toBe("Outpost's certificate changed; trust it again: run sudo outpost ca trust");
    expect(trayView({ kind: 'running', paused: false, degraded: 'the CA certificate changed', blockedToday: 0, action })).toEqual({
      icon: 'warning',
      tooltip: "Outpost: Outpost's certificate changed; trust it again: run sudo outpost ca trust",
      statusLine: "Action needed: Outpost's certificate changed; trust it again: run sudo outpost ca trust",
    });
    expect(retrustAction({ pending: [], command: null })).toBeNull();
  });
});
