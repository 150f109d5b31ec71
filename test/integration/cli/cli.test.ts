import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, exampleFile } from '../../support/repo.js';
import { runOutpost, type CliResult } from '../../support/cli.js';

/** Runs the built CLI with a throwaway home. */
function outpost(...args: string[]): Promise<CliResult> {
  return runOutpost(args, { OUTPOST_HOME: os.tmpdir() });
}

describe('the outpost CLI', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await outpost('--version')).stdout.trim()).toBe(pkg.version);
  });

  it('checks the published example policy: ok, exit 0', async () => {
    const r = await outpost('policy', 'check', exampleFile('policy.json'));
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  it('lists every error of an invalid policy with its JSON path, exit 1', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-cli-'));
    const file = path.join(dir, 'bad.json');
    await fs.writeFile(file, JSON.stringify({ version: 1, name: 'x', failMode: 'ajar', guardrails: [{ id: 'g', type: 'regex', pattern: '[', action: 'block' }] }));
    const r = await outpost('policy', 'check', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('$.failMode: Invalid option: expected one of "open"|"closed"');
    expect(r.stdout).toContain('$.guardrails[0].pattern: the pattern does not compile');
    const json = await outpost('policy', 'check', '--json', file);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ path: '$.failMode' }, { path: '$.guardrails[0].pattern' }] });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('says a missing policy file is unreadable, exit 1', async () => {
    const r = await outpost('policy', 'check', '/nonexistent/policy.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('cannot read the file: ENOENT');
  });

  it('refuses an unknown command or flag with exit 2', async () => {
    const cmd = await outpost('frobnicate');
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'frobnicate'");
    const flag = await outpost('policy', 'check', '--frob', 'x');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--frob'");
  });

  it('has --help on every command', async () => {
    const top = await outpost('--help');
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['start', 'policy']));
    // One process per command, all at once: on a busy machine each start takes seconds.
    const answers = await Promise.all(commands.map((c) => outpost(c as string, '--help')));
    answers.forEach((h, i) => {
      expect(h.code, commands[i]).toBe(0);
      expect(h.stdout, commands[i]).toContain(`Usage: outpost ${commands[i] as string}`);
    });
  }, 120_000);
});
