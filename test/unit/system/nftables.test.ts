import { describe, expect, it } from 'vitest';
import { parseInstalled, redirectRuleset, setElements } from '../../../agent/system/nftables.js';

describe('the transparent redirect ruleset', () => {
  it('redirects TCP 443 and 80 of every uid but the agent’s to the listener, loopback excepted, QUIC refused', () => {
    const text = redirectRuleset({ port: 8789, exemptUid: 997 });
    expect(text).toMatch(/^table inet outpost \{\}\ndelete table inet outpost\ntable inet outpost \{/);
    expect(text).toContain('type nat hook output priority -100; policy accept;');
    // The exemption comes before the redirect in the same chain (first match wins).
    expect(text.indexOf('meta skuid 997 return')).toBeLessThan(text.indexOf('redirect to :8789'));
    expect(text).toContain('ip daddr 127.0.0.0/8 return');
    expect(text).toContain('meta l4proto tcp th dport { 443, 80 } redirect to :8789');
    expect(text).toContain('udp dport 443 reject');
    expect(text).not.toContain('@ai4');
  });

  it('only the AI hosts’ addresses when given, refreshed by replacing the sets', () => {
    const text = redirectRuleset({ port: 8789, exemptUid: 0, only: { ipv4: ['10.0.0.1', '10.0.0.2'], ipv6: ['2001:db8::1'] }, refuseQuic: false });
    expect(text).toContain('set ai4 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 }; }');
    expect(text).toContain('set ai6 { type ipv6_addr; elements = { 2001:db8::1 }; }');
    expect(text).toContain('ip daddr @ai4 meta l4proto tcp th dport { 443, 80 } redirect to :8789');
    expect(text).not.toContain('reject');
    expect(setElements({ ipv4: ['10.0.0.3'], ipv6: [] })).toBe('flush set inet outpost ai4\nflush set inet outpost ai6\nadd element inet outpost ai4 { 10.0.0.3 }\n');
  });

  it('reads its own marker back from nft list output', () => {
    const text = redirectRuleset({ port: 18789, exemptUid: 1000, watchdogPid: 4242 });
    expect(parseInstalled(text)).toEqual({ port: 18789, uid: 1000, scope: 'all', watchdogPid: 4242 });
    expect(parseInstalled('table inet other {\n}')).toBeNull();
  });

  it('refuses a spec that would write a broken or injected rule', () => {
    expect(() => redirectRuleset({ port: 0, exemptUid: 0 })).toThrow();
    expect(() => redirectRuleset({ port: 8789, exemptUid: -1 })).toThrow();
    expect(() => redirectRuleset({ port: 8789, exemptUid: 0, only: { ipv4: ['1.2.3.4 } ; flush ruleset'], ipv6: [] } })).toThrow();
  });
});
