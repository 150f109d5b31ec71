import { describe, expect, it } from 'vitest';
import {
  CLOSE_CODES,
  PROTOCOL_V,
  PROTOCOL_VERSION,
  enrollRequest,
  parseAgentMessage,
  parseGatewayMessage,
  type DeviceStatus,
} from '../../../shared/schema/protocol.js';
import { makeChain } from '../../support/audit-entries.js';

const status: DeviceStatus = { caMode: 'standalone', caTrusted: true, paused: false, degraded: [], policyRejected: null };
const hello = { v: PROTOCOL_V, type: 'hello', deviceId: 'dev-0123456789', agentVersion: '0.1.0', policyVersion: null, lastAckedSeq: 0, status };
const newerMinor = `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor + 1}`;

describe('sync protocol messages', () => {
  it('parses each agent message of this version', () => {
    const parsed = parseAgentMessage(JSON.stringify(hello));
    expect(parsed).toEqual({ kind: 'message', message: hello });
    const batch = parseAgentMessage(JSON.stringify({ v: PROTOCOL_V, type: 'audit.batch', records: makeChain(3) }));
    expect(parsed.kind === 'message' && batch.kind === 'message').toBe(true);
  });

  it('talks with a peer one minor version newer: extra fields are dropped, new message types ignored', () => {
    const extended = parseAgentMessage(JSON.stringify({ ...hello, v: newerMinor, capabilities: ['x'], status: { ...status, battery: 0.5 } }));
    expect(extended.kind).toBe('message');
    expect(extended.kind === 'message' && 'capabilities' in extended.message).toBe(false);
    expect(parseGatewayMessage(JSON.stringify({ v: newerMinor, type: 'inventory.request' }))).toEqual({ kind: 'ignored', type: 'inventory.request' });
    const older = `${PROTOCOL_VERSION.major}.${Math.max(0, PROTOCOL_VERSION.minor - 1)}`;
    expect(parseGatewayMessage(JSON.stringify({ v: older, type: 'heartbeat', time: new Date().toISOString() })).kind).toBe('message');
  });

  it('refuses another major version, an unknown type of its own version and a bad field, naming it', () => {
    expect(parseAgentMessage(JSON.stringify({ ...hello, v: `${PROTOCOL_VERSION.major + 1}.0` }))).toMatchObject({ kind: 'error', code: CLOSE_CODES.unsupportedVersion });
    expect(parseAgentMessage(JSON.stringify({ v: PROTOCOL_V, type: 'bogus' }))).toMatchObject({ kind: 'error', code: CLOSE_CODES.badMessage, reason: 'unknown message type "bogus"' });
    expect(parseAgentMessage('{not json')).toMatchObject({ kind: 'error', code: CLOSE_CODES.badMessage, reason: 'not JSON' });
    const bad = parseAgentMessage(JSON.stringify({ ...hello, lastAckedSeq: -1 }));
    expect(bad).toMatchObject({ kind: 'error', code: CLOSE_CODES.badMessage });
    expect(bad.kind === 'error' && bad.reason).toContain('$.lastAckedSeq');
    const noV = parseAgentMessage(JSON.stringify({ type: 'hello' }));
    expect(noV.kind === 'error' && noV.reason).toContain('$.v');
  });

  it('keeps a close reason within the 123 bytes a close frame allows', () => {
    const long = parseAgentMessage(JSON.stringify({ v: PROTOCOL_V, type: 'é'.repeat(60) }));
    expect(long.kind).toBe('error');
    expect(long.kind === 'error' && Buffer.byteLength(long.reason)).toBeLessThanOrEqual(123);
  });

  it('a gateway message keeps the agent from taking a batch as its own (registries are per direction)', () => {
    expect(parseGatewayMessage(JSON.stringify({ v: PROTOCOL_V, type: 'audit.batch', records: makeChain(1) }))).toMatchObject({ kind: 'error', code: CLOSE_CODES.badMessage });
  });

  it('validates an enrollment request, naming the field', () => {
    const r = enrollRequest.safeParse({ token: 'short', device: { hostname: 'h', osUser: 'u', os: 'linux 6', arch: 'x64', agentVersion: '0.1.0' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['token']);
  });
});
