import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeOptionsWithPreload, proxyEnvironment, renderEnvironment, SHELLS, type Shell } from '../../../agent/system/env.js';

const targets = { proxyUrl: 'http://127.0.0.1:8787', caFile: "/home/o'neil/.outpost/ca.pem", bundleFile: '/home/x/.outpost/bundle.pem' };

/** Values a shell could mangle: quotes of both kinds, backslashes, `$`, spaces, globs, non-ASCII. */
const NASTY: Array<[string, string]> = [
  ['OUTPOST_T1', "it's"],
  ['OUTPOST_T2', 'C:\\Users\\ünïcode\\path with spaces'],
  ['OUTPOST_T3', '$HOME `id` $(id) "dq" * ? ~ ;&|'],
  ['OUTPOST_T4', "\\'\\\\'"],
];

/** How each installed shell evaluates the output and prints the variables back, one per line. */
const RUNNERS: Partial<Record<Shell, (script: string, names: readonly string[]) => string>> = {
  bash: (script, names) => execFileSync('bash', ['-c', `${script}\nprintf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`], { encoding: 'utf8' }),
  zsh: (script, names) => execFileSync('zsh', ['-f', '-c', `eval "$(cat)"\nprintf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`], { encoding: 'utf8', input: script }),
  fish: (script, names) => execFileSync('fish', ['--no-config', '-c', `cat | source; printf '%s\\n' ${names.map((n) => `"$${n}"`).join(' ')}`], { encoding: 'utf8', input: script }),
};

function installed(shell: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${shell}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * PowerShell is not packaged for Debian, so its output is checked by a parser of the one statement
 * form it uses: `$env:NAME = '…'`, where a single-quoted string is literal except `''` for a quote
 * (about_Quoting_Rules).
 */
function parsePowerShell(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const m = /^\$env:([A-Za-z_][A-Za-z0-9_]*) = '((?:[^']|'')*)'$/.exec(line);
    if (m === null) throw new Error(`not a PowerShell environment assignment: ${line}`);
    vars.set(m[1]!, m[2]!.replaceAll("''", "'"));
  }
  return vars;
}

describe('outpost env', () => {
  it('points every CA variable at the bundle of OS roots and ours (Node too: it adds to its own roots)', () => {
    const vars = new Map(proxyEnvironment(targets));
    for (const v of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CODEX_CA_CERTIFICATE', 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH']) expect(vars.get(v)).toBe(targets.bundleFile);
    expect(vars.get('HTTPS_PROXY')).toBe('http://127.0.0.1:8787');
    expect(vars.get('NO_PROXY')).toContain('localhost');
    expect(vars.has('NODE_OPTIONS')).toBe(false);
  });

  it('puts the fetch preload first in NODE_OPTIONS, keeps the user\'s options and never adds it twice', () => {
    const vars = new Map(proxyEnvironment({ ...targets, nodePreload: '/opt/out post/preload.js', nodeOptions: '--max-old-space-size=4096' }));
    expect(vars.get('NODE_OPTIONS')).toBe('--import "file:///opt/out%20post/preload.js" --max-old-space-size=4096');
    expect(vars.get('NODE_USE_ENV_PROXY')).toBe('1');
    const once = nodeOptionsWithPreload('/p.js', '');
    expect(nodeOptionsWithPreload('/p.js', once)).toBe(once);
  });

  for (const shell of SHELLS.filter((s) => s !== 'powershell')) {
    it.runIf(installed(shell))(`renders ${shell} that a real ${shell} evaluates to exactly the same values`, () => {
      const vars = [...proxyEnvironment({ ...targets, nodePreload: '/p.js' }), ...NASTY];
      const out = RUNNERS[shell]!(renderEnvironment(vars, shell), vars.map(([n]) => n));
      expect(out).toBe(vars.map(([, v]) => `${v}\n`).join(''));
    });
  }

  it('renders PowerShell assignments that its quoting rules read back to the same values (parsed: PowerShell is not in Debian)', () => {
    const vars = [...proxyEnvironment({ ...targets, nodePreload: '/p.js' }), ...NASTY];
    expect(parsePowerShell(renderEnvironment(vars, 'powershell'))).toEqual(new Map(vars));
  });

  it('the shells this machine should have are here (scripts/setup.sh installs zsh and fish)', () => {
    expect(['bash', 'zsh', 'fish'].filter((s) => !installed(s))).toEqual([]);
  });
});
