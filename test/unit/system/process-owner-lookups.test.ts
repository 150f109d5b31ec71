/**
 * Which process opened a connection, on the systems this machine cannot be (issue 14.3): the pure
 * parsers of macOS's `lsof -F pcn` and `ps -o comm=` and of Windows's PowerShell
 * `Get-NetTCPConnection` + `Get-Process` JSON, on output shaped as those tools print it, and each
 * lookup driven by a canned command runner (as the inventory tests drive dpkg). The Linux lookup
 * runs for real in test/integration/system/process-owner.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LsofLookup, lsofPlan, parseLsofFields, parsePsComm, psExePlan } from '../../../agent/system/process-owner/lsof-lookup.js';
import { netTcpPlan, parseNetTcpOwner, WindowsLookup } from '../../../agent/system/process-owner/windows-lookup.js';
import { processOwnersForThisOs } from '../../../agent/system/process-owner/process-owners.js';
import type { CommandPlan, CommandResult } from '../../../agent/system/commands.js';

// `lsof -nP -iTCP:52344 -sTCP:ESTABLISHED -Fpcn`: the client (Cursor Helper) and the agent's own end.
const LSOF = ['p4242', 'cCursor Helper (Plugin)', 'f31', 'n127.0.0.1:52344->127.0.0.1:8787', 'p777', 'cnode', 'f24', 'n127.0.0.1:8787->127.0.0.1:52344', ''].join('\n');
const LSOF_V6 = ['p5150', 'cclaude', 'f19', 'n[::1]:61000->[::1]:8787', ''].join('\n');

function runner(outputs: Record<string, CommandResult>): { run: (plan: CommandPlan) => Promise<CommandResult>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    run: async (plan) => {
      const line = [plan.command, ...plan.args].join(' ');
      asked.push(line);
      return outputs[plan.command] ?? { code: 1, stdout: '', stderr: `${plan.command}: not found` };
    },
  };
}

describe('macOS: lsof and ps', () => {
  it('finds the process whose socket goes from the client port to the agent, not the agent\'s own end', () => {
    expect(parseLsofFields(LSOF, 52344, 8787)).toEqual({ pid: 4242, command: 'Cursor Helper (Plugin)' });
    expect(parseLsofFields(LSOF_V6, 61000, 8787)).toEqual({ pid: 5150, command: 'claude' });
    expect(parseLsofFields(LSOF, 52344, 9999)).toBeNull();
    expect(parseLsofFields('', 52344, 8787)).toBeNull();
    expect(parseLsofFields('garbage\nn127.0.0.1:52344->127.0.0.1:8787\n', 52344, 8787)).toBeNull();
  });

  it('reads the executable from ps, and falls back to lsof\'s command name when ps says nothing', async () => {
    expect(parsePsComm('/Applications/Cursor.app/Contents/Frameworks/Cursor Helper (Plugin).app/Contents/MacOS/Cursor Helper (Plugin)\n')).toContain('/Applications/Cursor.app/');
    expect(parsePsComm('\n')).toBeNull();
    const withPs = runner({ lsof: { code: 0, stdout: LSOF, stderr: '' }, ps: { code: 0, stdout: '/Applications/Cursor.app/Contents/MacOS/Cursor\n', stderr: '' } });
    expect(await new LsofLookup(withPs.run).find(52344, 8787)).toEqual({ pid: 4242, exe: '/Applications/Cursor.app/Contents/MacOS/Cursor', name: 'Cursor' });
    expect(withPs.asked).toEqual([[lsofPlan(52344).command, ...lsofPlan(52344).args].join(' '), [psExePlan(4242).command, ...psExePlan(4242).args].join(' ')]);
    const psGone = runner({ lsof: { code: 0, stdout: LSOF_V6, stderr: '' } });
    expect(await new LsofLookup(psGone.run).find(61000, 8787)).toEqual({ pid: 5150, exe: 'claude', name: 'claude' });
    expect(await new LsofLookup(runner({}).run).find(61000, 8787)).toBeNull();
  });
});

describe('Windows: Get-NetTCPConnection and Get-Process', () => {
  it('reads the owner from PowerShell\'s JSON (one object, or an array)', () => {
    expect(parseNetTcpOwner('{"pid":9120,"path":"C:\\\\Users\\\\ann\\\\AppData\\\\Local\\\\Programs\\\\cursor\\\\Cursor.exe","name":"Cursor"}\r\n')).toEqual({ pid: 9120, exe: 'C:\\Users\\ann\\AppData\\Local\\Programs\\cursor\\Cursor.exe', name: 'Cursor.exe' });
    expect(parseNetTcpOwner('[{"pid":12,"path":"C:\\\\Tools\\\\ollama.exe","name":"ollama"},{"pid":13,"path":null,"name":"x"}]')?.pid).toBe(12);
  });

  it('names a process it may not inspect by its name, and says unknown for nothing or nonsense', () => {
    expect(parseNetTcpOwner('{"pid":4,"path":null,"name":"System"}')).toEqual({ pid: 4, exe: 'System.exe', name: 'System.exe' });
    expect(parseNetTcpOwner('')).toBeNull();
    expect(parseNetTcpOwner('{"pid":null,"path":null,"name":null}')).toBeNull();
    expect(parseNetTcpOwner('Get-NetTCPConnection : not recognized')).toBeNull();
  });

  it('asks for exactly that connection, and a failing PowerShell is unknown', async () => {
    const plan = netTcpPlan(52344, 8787);
    expect(plan.command).toBe('powershell.exe');
    expect(plan.args.at(-1)).toContain('Get-NetTCPConnection -LocalPort 52344 -RemotePort 8787 -State Established');
    const ok = runner({ 'powershell.exe': { code: 0, stdout: '{"pid":9120,"path":"C:\\\\Tools\\\\codex.exe","name":"codex"}', stderr: '' } });
    expect(await new WindowsLookup(ok.run).find(52344, 8787)).toMatchObject({ pid: 9120, name: 'codex.exe' });
    expect(await new WindowsLookup(runner({}).run).find(52344, 8787)).toBeNull();
  });
});

describe('the lookup per OS', () => {
  it('has one for Linux, macOS and Windows, and none elsewhere', () => {
    expect(processOwnersForThisOs('linux')).not.toBeNull();
    expect(processOwnersForThisOs('darwin')).not.toBeNull();
    expect(processOwnersForThisOs('win32')).not.toBeNull();
    expect(processOwnersForThisOs('aix')).toBeNull();
  });
});
