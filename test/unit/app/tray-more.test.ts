import { describe, expect, it } from 'vitest';
import { parseEvent, takeBlocks } from '../../../app/logic/events.js';
import { keyMenu, trayMenu } from '../../../app/logic/menu.js';
import { afterExit, DEFAULT_LIMITS } from '../../../app/logic/supervise.js';
import { checkIpc } from '../../../app/logic/ipc.js';
import type { AgentStatus } from '../../../shared/schema/control.js';

describe('the company key in the menu', () => {
  const keys = { virtualKeys: [{ id: 'vk-team', owner: 'org', revoked: false }, { id: 'vk-old', owner: 'org', revoked: true }], selected: 'vk-team' };

  it('offers none and every key that is not revoked, the picked one checked', () => {
    const menu = keyMenu(keys);
    expect(menu?.label).toBe('Company key: vk-team');
    expect(menu?.submenu?.map((i) => [i.label, i.action, i.checked])).toEqual([
      ['None (apps use their own keys)', 'pick-key-none', false],
      ['vk-team', 'pick-key:vk-team', true],
    ]);
  });

  it('is absent with no key to pick, and from the menu of an agent that does not answer', () => {
    expect(keyMenu({ virtualKeys: [], selected: null })).toBeNull();
    expect(keyMenu(null)).toBeNull();
    expect(trayMenu(null, keys).some((i) => i?.label.startsWith('Company key'))).toBe(false);
  });

  it('is in the menu of a running agent', () => {
    const status = { state: 'protected', paused: null, degraded: [], policy: { pauseMinutes: null } } as unknown as AgentStatus;
    expect(trayMenu(status, keys).find((i) => i?.label.startsWith('Company key'))?.submenu).toHaveLength(2);
  });

  it('lets the window pick a key by id or none over IPC, and nothing else', () => {
    const page = 'file:///app/index.html';
    expect(checkIpc('outpost:select-key', 'vk-team', page, page, true)).toMatchObject({ ok: true, arg: 'vk-team' });
    expect(checkIpc('outpost:select-key', null, page, page, true)).toMatchObject({ ok: true, arg: null });
    expect(checkIpc('outpost:select-key', { id: 'x' }, page, page, true).ok).toBe(false);
    expect(checkIpc('outpost:export-diagnostics', undefined, page, page, true).ok).toBe(true);
  });
});

describe('reading the event stream', () => {
  it('splits complete blocks, keeps the rest, and accepts CRLF', () => {
    expect(takeBlocks('event: status\r\ndata: {}\r\n\r\nevent: dec')).toEqual({ blocks: ['event: status\ndata: {}'], rest: 'event: dec' });
  });

  it('validates each event: a known one passes, an unknown type, bad JSON or a comment is skipped', () => {
    const status = { type: 'status', state: 'protected', degraded: [], pausedUntil: null };
    expect(parseEvent(`event: status\ndata: ${JSON.stringify(status)}`)).toEqual(status);
    expect(parseEvent('event: novel\ndata: {"type":"novel"}')).toBeNull();
    expect(parseEvent('event: status\ndata: {"type":"status","state":"exploded"}')).toBeNull();
    expect(parseEvent('data: {not json')).toBeNull();
    expect(parseEvent(': keep-alive')).toBeNull();
  });
});

describe('supervising the agent', () => {
  it('restarts after a growing wait, capped', () => {
    const t = 1_000_000;
    expect(afterExit([t], t)).toEqual({ action: 'restart', delayMs: 1000 });
    expect(afterExit([t - 3000, t], t)).toEqual({ action: 'restart', delayMs: 2000 });
    expect(afterExit([t - 9000, t - 6000, t - 3000, t], t)).toEqual({ action: 'restart', delayMs: 8000 });
    expect(afterExit([t], t, { ...DEFAULT_LIMITS, maxExits: 50 })).toMatchObject({ delayMs: 1000 });
    expect(afterExit(Array.from({ length: 9 }, (_, i) => t - i), t, { ...DEFAULT_LIMITS, maxExits: 50 })).toEqual({ action: 'restart', delayMs: 30_000 });
  });

  it('gives up after five exits in ten minutes, in words; old exits do not count', () => {
    const t = 10_000_000;
    const step = afterExit([t - 4000, t - 3000, t - 2000, t - 1000, t], t);
    expect(step.action).toBe('give-up');
    expect(step.action === 'give-up' && step.message).toMatch(/not being checked.*check-up/);
    expect(afterExit([t - 11 * 60_000, t - 10.5 * 60_000, t - 2000, t - 1000, t], t).action).toBe('restart');
  });
});
