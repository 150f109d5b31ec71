import { describe, expect, it } from 'vitest';
import { CommandError, runPlan } from '../../../agent/system/commands.js';
import { runPlan as runTrustPlan } from '../../../agent/ca/trust/commands.js';
import { CaError } from '../../../agent/ca/errors.js';

const missing = { command: 'outpost-no-such-program', args: ['--version'] };

describe('running OS commands', () => {
  it('resolves with the exit code and output; a non-zero exit does not reject', async () => {
    expect(await runPlan({ command: process.execPath, args: ['-e', 'process.stdout.write("hi"); process.exit(3)'] })).toEqual({ code: 3, stdout: 'hi', stderr: '' });
  });

  it('rejects with CommandError when the program cannot start (the doctor skips such a probe)', async () => {
    const err = await runPlan(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).code).toBe('SYSTEM_COMMAND_NOT_RUN');
  });

  it('a trust store command that cannot start is still CA_TRUST_COMMAND', async () => {
    const err = await runTrustPlan(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).code).toBe('CA_TRUST_COMMAND');
  });
});
