import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { proxyEnvironment, renderEnvironment } from '../../../agent/system/env.js';

const targets = { proxyUrl: 'http://127.0.0.1:8787', caFile: "/home/o'neil/.outpost/ca.pem", bundleFile: '/home/x/.outpost/bundle.pem' };

describe('outpost env', () => {
  it('adds our CA alone to the additive variable and the full bundle to the replacing ones', () => {
    const vars = new Map(proxyEnvironment(targets));
    expect(vars.get('NODE_EXTRA_CA_CERTS')).toBe(targets.caFile);
    for (const v of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE']) expect(vars.get(v)).toBe(targets.bundleFile);
    expect(vars.get('HTTPS_PROXY')).toBe('http://127.0.0.1:8787');
    expect(vars.get('NO_PROXY')).toContain('localhost');
  });

  it('renders bash that a real bash evaluates to the same values, quotes included', () => {
    const script = renderEnvironment(proxyEnvironment(targets), 'bash');
    const out = execFileSync('bash', ['-c', `${script}\nprintf '%s\\n' "$NODE_EXTRA_CA_CERTS" "$HTTPS_PROXY"`], { encoding: 'utf8' });
    expect(out).toBe(`${targets.caFile}\nhttp://127.0.0.1:8787\n`);
  });

  it('renders fish and PowerShell syntax', () => {
    expect(renderEnvironment([['A', "it's"]], 'fish')).toBe(`set -gx A 'it'\\''s'\n`);
    expect(renderEnvironment([['A', "it's"]], 'powershell')).toBe(`$env:A = 'it''s'\n`);
  });
});
