/**
 * The words the tray uses for the link to the company's server and for what needs attention
 * (app/logic/company-link.ts, plain-reasons.ts, when.ts): for people, never a code, path or command.
 */
import { describe, expect, it } from 'vitest';
import { companyLink, companyMenuLine } from '../../../app/logic/company-link.js';
import { detailLines, trayMenu } from '../../../app/logic/menu.js';
import { plainReason } from '../../../app/logic/plain-reasons.js';
import { shortWhen } from '../../../app/logic/when.js';
import type { AgentStatus, GatewaySyncStatus } from '../../../shared/schema/control.js';

const NOW = new Date(2026, 11, 5, 15, 30);
const clock = (d: Date): string => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const earlier = new Date(2026, 11, 5, 9, 5);
const yesterday = new Date(2026, 11, 4, 18, 40);

const link: GatewaySyncStatus = {
  url: 'https://outpost.acme.example:8443/',
  deviceId: 'dev-1',
  state: 'connected',
  connectedSince: earlier.toISOString(),
  lastError: null,
  nextAttemptAt: null,
  unreachableSince: null,
  policyVersion: 7,
  policySignedAt: yesterday.toISOString(),
  policyRejected: null,
  audit: { acknowledgedSeq: 0, pending: 0 },
};

describe('moments in the tray', () => {
  it('is the clock time today and the day and time before', () => {
    expect(shortWhen(earlier.toISOString(), NOW)).toBe(clock(earlier));
    expect(shortWhen(yesterday.toISOString(), NOW)).toBe(`${yesterday.toLocaleDateString([], { month: 'short', day: 'numeric' })}, ${clock(yesterday)}`);
    expect(shortWhen('not a time', NOW)).toBe('not a time');
  });
});

describe('the link to the company', () => {
  it('says connected, with the server and the policy version and when it was published', () => {
    expect(companyLink(link, NOW)).toEqual({ tone: 'ok', text: `Connected to your company (outpost.acme.example:8443) · company policy version 7, published ${shortWhen(yesterday.toISOString(), NOW)}` });
    expect(companyLink({ ...link, policyVersion: null, policySignedAt: null }, NOW).text).toBe('Connected to your company (outpost.acme.example:8443) · waiting for your company’s policy');
    // An older agent sends no publication time: the version alone.
    const { policySignedAt: _dropped, ...older } = link;
    expect(companyLink(older, NOW).text).toBe('Connected to your company (outpost.acme.example:8443) · company policy version 7');
  });

  it('says since when the server cannot be reached, and that protection goes on', () => {
    const down = { ...link, state: 'waiting' as const, connectedSince: null, unreachableSince: earlier.toISOString(), lastError: 'connect ECONNREFUSED 10.0.0.1:8443' };
    const text = companyLink(down, NOW);
    expect(text.tone).toBe('warn');
    expect(text.text).toBe(`Cannot reach your company’s server (outpost.acme.example:8443) since ${clock(earlier)}. Protection goes on with the last company policy (version 7, published ${shortWhen(yesterday.toISOString(), NOW)}); activity is kept and sent later.`);
    expect(text.text).not.toContain('ECONNREFUSED');
    // A retry in progress is still "unreachable": the line does not flicker with each attempt.
    expect(companyLink({ ...down, state: 'connecting' }, NOW)).toEqual(text);
    expect(companyMenuLine({ ...down, state: 'connecting' }, NOW)).toBe(`Company server: unreachable since ${clock(earlier)} · policy v7`);
    // Never connected since start, no company policy yet: the computer's own policy serves.
    expect(companyLink({ ...down, policyVersion: null, policySignedAt: null }, NOW).text).toContain('Protection goes on with the policy set on this computer');
  });

  it('says connecting only for a first attempt, removed by IT, and not set up', () => {
    expect(companyLink({ ...link, state: 'connecting', connectedSince: null }, NOW)).toEqual({ tone: 'ok', text: 'Connecting to your company (outpost.acme.example:8443)…' });
    expect(companyLink({ ...link, state: 'revoked' }, NOW).text).toContain('Your IT team removed this computer');
    expect(companyLink(null, NOW)).toEqual({ tone: 'none', text: 'Not connected to a company server: Outpost uses the policy set on this computer.' });
    expect(companyLink(undefined, NOW).tone).toBe('none');
    expect(companyMenuLine(link, NOW)).toBe('Company server: connected (outpost.acme.example:8443) · policy v7');
    expect(companyMenuLine({ ...link, state: 'revoked' }, NOW)).toBe('Company server: this computer was removed by IT');
    expect(companyMenuLine(null, NOW)).toBe('Company server: not set up');
  });
});

describe('what needs attention, in plain words', () => {
  // One sample of every reason the agent writes (agent/agent.ts status(), fleet-commands describe()).
  const samples: ReadonlyArray<readonly [string, RegExp]> = [
    ['audit: the disk holding the audit store is full', /cannot save its activity log/],
    ['CA key in a file: files readable only by this user in /home/j/.outpost', /kept in a file/],
    ['the key of the previous CA root could not be read from the keychain; a new root was made at start', /new security certificate/],
    ['a newer policy was refused; the last good policy is in force', /keeps the last good one/],
    ['gateway: cannot open the keychain for the gateway enrollment: dbus timeout', /company sign-in/],
    ['gateway: a gateway is configured but this device is not enrolled: run outpost enroll --gateway URL --token TOKEN', /not connected to your company’s Outpost yet/],
    ['gateway: not enrolled with https://gw.example: token expired', /not connected to your company’s Outpost yet/],
    ['gateway: the enrollment was not kept', /problem with its link to your company/],
    ['gateway: /home/j/.outpost/gateway/commands.json: Unexpected token', /problem with its link to your company/],
    ['gateway: an administrator paused interception on this device (kill switch): AI traffic passes unread', /IT team paused Outpost’s checks/],
    ['gateway: an administrator blocked all AI traffic on this device (kill switch)', /blocked AI services/],
    ['gateway: this device was revoked by an administrator; it no longer syncs: policy stays as last received, enroll again to rejoin', /removed this computer/],
    ['gateway: signed policy v4 was refused (the signature does not verify); the last good policy is in force', /keeps the last good one/],
    ['CA cannot sign for api.openai.com (waiting for the intermediate): requests to them are refused, not passed ungoverned', /cannot be checked/],
    ['the CA certificate changed and is not trusted yet in NSS: run sudo outpost ca trust', /do not trust Outpost’s new certificate/],
    ['transparent door: SO_ORIGINAL_DST unavailable; redirected connections are routed by SNI/Host alone', /redirected connections/],
    ['gate: internal failure at 2026-12-05T10:00:00Z (guardrails: boom); requests fail closed', /internal problem/],
  ];

  it.each(samples)('%s', (reason, meaning) => {
    const plain = plainReason(reason);
    expect(plain).toMatch(meaning);
    // No path, command, version tag, URL or code reaches the reader.
    expect(plain).not.toMatch(/\/|outpost |--|v\d|https?:|[A-Z_]{4,}|\(/);
  });

  it('says an unknown reason (a newer agent) generically, never raw', () => {
    expect(plainReason('frobnicator: EIO at /dev/sda')).toBe('Outpost found a problem; a check-up tells you more.');
  });

  it('puts each meaning once under the menu status line, then the company link', () => {
    const status = { degraded: ['gateway: commands.json broken', 'gateway: inventory.json broken'], gateway: link, paused: null, policy: { pauseMinutes: null } } as unknown as AgentStatus;
    expect(detailLines(status, NOW)).toEqual(['Outpost has a problem with its link to your company; it keeps protecting you with the last policy.', 'Company server: connected (outpost.acme.example:8443) · policy v7']);
    expect(detailLines(null, NOW)).toEqual([]);
    const labels = trayMenu(status).flatMap((i) => (i === null ? [] : [{ label: i.label, enabled: i.enabled }]));
    expect(labels.slice(0, 4)).toEqual([
      { label: 'Needs attention: open Outpost for details', enabled: false },
      { label: 'Outpost has a problem with its link to your company; it keeps protecting you with the last policy.', enabled: false },
      { label: 'Company server: connected (outpost.acme.example:8443) · policy v7', enabled: false },
      { label: 'Open Outpost', enabled: true },
    ]);
  });
});
