/** The tray's decisions, without Electron: notifications and their throttle, IPC checks, the menu. */
import { describe, expect, it } from 'vitest';
import { MAX_BODY_CHARS, NOTIFY_EVERY_MS, NotificationThrottle, describeEvent } from '../../../app/logic/notifications.js';
import { allowNavigation, checkIpc } from '../../../app/logic/ipc.js';
import { trayMenu } from '../../../app/logic/menu.js';
import type { AgentStatus, ControlEvent } from '../../../shared/schema/control.js';

const blocked: ControlEvent = {
  type: 'decision',
  item: {
    time: '2026-12-05T10:00:00.000Z', app: 'curl/8', host: 'api.openai.com', provider: 'openai', model: 'gpt-4o', decision: 'block',
    rules: [{ id: 'no-cloud-keys', action: 'block', explanation: 'found an AWS access key ID in the prompt' }],
    advice: 'Your message contained something company policy does not allow to be shared with AI services. Remove it and try again.',
    inputTokens: null, outputTokens: null, costUsd: null, latencyMs: 3,
  },
};

describe('tray notifications', () => {
  it('names the rule and what to do, within 100 characters', () => {
    const note = describeEvent(blocked);
    expect(note?.title).toBe('Outpost blocked a request to openai');
    expect(note?.body.startsWith('Rule “no-cloud-keys”.')).toBe(true);
    expect(note?.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
    expect(describeEvent({ type: 'status', state: 'protected', degraded: [] })).toBeNull();
  });

  it('shows at most one a minute and summarises the rest in the next', () => {
    let now = 0;
    const throttle = new NotificationThrottle(() => now);
    expect(throttle.offer(blocked)).not.toBeNull();
    now = 10_000;
    expect(throttle.offer(blocked)).toBeNull();
    now = 20_000;
    expect(throttle.offer(blocked)).toBeNull();
    now = NOTIFY_EVERY_MS + 1;
    const next = throttle.offer(blocked);
    expect(next?.body).toMatch(/^\+2 more since the last notice\. Rule/);
    expect(next?.body.length).toBeLessThanOrEqual(MAX_BODY_CHARS);
  });

  it('announces a spent budget with when it resets', () => {
    const note = describeEvent({ type: 'budget', budgetId: 'vk:eng', scope: 'vk:eng', threshold: 100, spentUsd: 5.01, limitUsd: 5, resetsAt: '2027-01-01T00:00:00.000Z' });
    expect(note?.title).toBe('Your AI budget is used up');
  });
});

describe('tray IPC checks', () => {
  const page = 'file:///opt/Outpost/resources/app/renderer/index.html';
  it('accepts the window page asking a known channel with a valid argument', () => {
    expect(checkIpc('outpost:pause', 15, page, page, true)).toEqual({ ok: true, channel: 'outpost:pause', arg: 15 });
  });
  it('refuses other senders, frames, channels and arguments', () => {
    expect(checkIpc('outpost:pause', 15, 'https://evil.example/', page, true).ok).toBe(false);
    expect(checkIpc('outpost:pause', 15, page, page, false).ok).toBe(false);
    expect(checkIpc('outpost:shell', 'rm -rf /', page, page, true)).toMatchObject({ ok: false, reason: 'unknown IPC channel outpost:shell' });
    expect(checkIpc('outpost:pause', 100_000, page, page, true).ok).toBe(false);
    expect(checkIpc('__proto__', undefined, page, page, true).ok).toBe(false);
    expect(allowNavigation('https://evil.example/', page)).toBe(false);
  });
});

describe('tray menu', () => {
  const status = (over: Partial<AgentStatus>): AgentStatus => ({ degraded: [], paused: null, policy: { name: 'p', version: 1, source: 'file', failMode: 'open', pauseMinutes: 60 }, ...over }) as AgentStatus;
  const labels = (s: AgentStatus | null): string[] => trayMenu(s).flatMap((i) => (i === null ? [] : [i.label]));

  it('offers pausing only where policy allows it, and resuming while paused', () => {
    expect(labels(status({}))).toEqual(['Protected', 'Company server: not set up', 'Open Outpost', 'Pause for 15 minutes', 'Pause for 1 hour', 'Copy shell setup', 'Diagnostics…', 'Export diagnostics for IT', 'Quit Outpost']);
    expect(labels(status({ policy: { name: 'p', version: 1, source: 'file', failMode: 'open', pauseMinutes: null } }))).not.toContain('Pause for 15 minutes');
    expect(labels(status({ paused: { until: new Date().toISOString(), by: 'user jane' } }))).toContain('Resume protection');
  });

  it('says so when the agent does not answer', () => {
    const menu = trayMenu(null);
    expect(menu[0]?.label).toBe('Outpost is not running');
    expect(menu.find((i) => i?.action === 'export-diagnostics')?.enabled).toBe(false);
  });
});

describe('tray icons', () => {
  it('has a PNG per state for light and dark menu bars (colour and template), at 1x and 2x', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { REPO_ROOT } = await import('../../support/repo.js');
    for (const state of ['protected', 'degraded', 'paused', 'off']) {
      for (const [suffix, size] of [['', 16], ['@2x', 32], ['Template', 16], ['Template@2x', 32]] as const) {
        const png = await readFile(join(REPO_ROOT, 'app', 'assets', `tray-${state}${suffix}.png`));
        expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
      }
    }
  });
});
