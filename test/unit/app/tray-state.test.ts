import { describe, expect, it } from 'vitest';
import { doorsLine, retrustAction, trayView } from '../../../app/view-model/tray-state.js';

describe('the tray view', () => {
  it('shows protection and counts blocked requests', () => {
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 3 })).toEqual({
      icon: 'ok',
      tooltip: 'Outpost: protecting AI traffic (3 requests blocked today)',
      statusLine: 'Protected · 3 requests blocked today',
    });
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 1 }).statusLine).toBe('Protected · 1 request blocked today');
  });

  it('shows which front doors bring traffic in', () => {
    const engine = { doors: { proxy: 12, transparent: 5 } } as const;
    const on = doorsLine({ engine, transparent: { port: 8789, originalDestination: null } } as never);
    expect(on).toBe('Doors: proxy 12 connections · transparent 5 connections');
    expect(doorsLine({ engine, transparent: { port: 8789, originalDestination: 'not built' } } as never)).toBe('Doors: proxy 12 connections · transparent 5 connections (by name only)');
    expect(doorsLine({ engine, transparent: { port: null, originalDestination: null } } as never)).toBe('Doors: proxy 12 connections · transparent off');
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 0, doors: on }).doorsLine).toBe(on);
    expect(trayView({ kind: 'running', paused: false, degraded: null, blockedToday: 0 }).doorsLine).toBeUndefined();
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
