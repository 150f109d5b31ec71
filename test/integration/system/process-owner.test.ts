/**
 * Which process opened a connection (issue 14.3, apps seen in traffic): on Linux the agent reads the
 * client socket's inode in /proc and finds the process holding it. A real curl child process sends
 * a request through a real agent; its audit record names curl's executable and pid; a process that
 * is a catalog AI tool is listed among the apps seen in traffic by its executable. The /proc
 * table parser is checked on real lines.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../../support/agent.js';
import { readRecords, recentApps } from '../../../agent/audit/records.js';
import { scanInventory } from '../../../agent/system/inventory/scan.js';
import { machineRoots } from '../../../agent/system/inventory/locations.js';
import { clientInode, parseProcNetTcp } from '../../../agent/system/process-owner/proc-net.js';

const run = promisify(execFile);

describe.runIf(process.platform === 'linux')('the process behind a connection', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ policy: { version: 1, name: 'owners', interception: { hosts: ['api.openai.com'] } } });
  });
  afterAll(async () => t?.close());

  it('names curl, by its executable and pid, in the record of its request', async () => {
    const caFile = path.join(t.home, 'test-ca.pem');
    await fs.writeFile(caFile, t.caPem);
    const owners = t.agent.processOwners;
    if (owners === null) throw new Error('no process owner lookup on Linux');
    const found = once(owners, 'found');
    // The body comes from stdin, so the request stays open until the lookup (off the hot path) has ended.
    const curl = spawn('curl', ['-sS', '--http1.1', '--cacert', caFile, '-x', t.proxyUrl, '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-user-own', '-X', 'POST', '-T', '-', 'https://api.openai.com/v1/chat/completions'], { stdio: ['pipe', 'ignore', 'inherit'] });
    const [owner] = (await found) as [{ pid: number; exe: string; name: string }];
    expect(owner).toMatchObject({ pid: curl.pid, name: 'curl' });
    const exited = once(curl, 'exit');
    curl.stdin.end(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }));
    expect((await exited)[0]).toBe(0);
    const record = readRecords(t.agent.store.audit.connection(), { afterSeq: 0 }).filter((r) => r.kind === 'request').at(-1);
    const binary = (await run('sh', ['-c', 'command -v curl'])).stdout.trim();
    expect(record?.process).toEqual({ pid: curl.pid, exe: await fs.realpath(binary), name: 'curl' });
    expect(record?.app).toMatch(/^curl\//);
  });

  it('names an AI app by its process when its User-Agent does not tell, in the inventory of apps seen in traffic', async () => {
    // curl under the name of a catalog tool that sends no recognisable User-Agent.
    const bin = path.join(t.home, 'bin');
    await fs.mkdir(bin, { recursive: true });
    const aider = path.join(bin, 'aider');
    await fs.copyFile((await run('sh', ['-c', 'command -v curl'])).stdout.trim(), aider);
    await fs.chmod(aider, 0o755);
    await t.agent.scanInventory();
    expect(t.agent.inventory()?.apps.filter((a) => a.source === 'traffic')).toEqual([]);
    const caFile = path.join(t.home, 'test-ca.pem');
    await fs.writeFile(caFile, t.caPem);
    const owners = t.agent.processOwners;
    if (owners === null) throw new Error('no process owner lookup on Linux');
    const found = once(owners, 'found');
    const child = spawn(aider, ['-sS', '--http1.1', '--cacert', caFile, '-x', t.proxyUrl, '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-user-own', '-X', 'POST', '-T', '-', 'https://api.openai.com/v1/chat/completions'], { stdio: ['pipe', 'ignore', 'inherit'] });
    expect((await found)[0]).toMatchObject({ pid: child.pid, name: 'aider' });
    const exited = once(child, 'exit');
    child.stdin.end(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }));
    expect((await exited)[0]).toBe(0);
    expect(t.agent.inventory()?.apps.filter((a) => a.source === 'traffic')).toEqual([{ id: 'aider', name: 'aider', source: 'traffic', location: await fs.realpath(aider), version: null }]);
    // After a restart the audit log still tells: a scan lists it from the records' process.
    const seen = recentApps(t.agent.store.audit.connection(), new Date(0).toISOString());
    expect(seen).toContainEqual(expect.objectContaining({ app: expect.stringMatching(/^curl\//), exe: await fs.realpath(aider) }));
    const rescanned = await scanInventory({ roots: machineRoots({}, t.home), run: async () => ({ code: 1, stdout: '', stderr: '' }), pathVar: '', seenUserAgents: seen });
    expect(rescanned.apps).toContainEqual({ id: 'aider', name: 'aider', source: 'traffic', location: await fs.realpath(aider), version: null });
  });

  it('reads the socket tables as the kernel writes them', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:B3A2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 424242 1 0000000000000000 20 4 30 10 -1',
      '   1: 0100007F:1F90 0100007F:B3A2 01 00000000:00000000 00:00000000 00000000     0        0 424243 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0',
      'garbage',
    ].join('\n');
    const sockets = parseProcNetTcp(table);
    expect(sockets).toEqual([
      { localPort: 0xb3a2, remotePort: 0x1f90, inode: 424242 },
      { localPort: 0x1f90, remotePort: 0xb3a2, inode: 424243 },
    ]);
    expect(clientInode(sockets, 0xb3a2, 0x1f90)).toBe(424242);
    expect(clientInode(sockets, 0xb3a2, 80)).toBeNull();
  });
});
