/**
 * The headless agent's .deb for real (issue 14.5): built on this machine by scripts/build-deb.mjs
 * (dpkg-deb), installed with dpkg (its postinst makes the system user and the CA and trusts it), the
 * systemd unit's ExecStart run directly as the unit's User= (no systemd in the container) until the
 * agent answers on its control API, then `dpkg -r`, whose prerm stops that agent and removes the trust
 * and whose postrm removes the rest: no file, no trust-store entry, no user, no process left.
 * Root only, and not where an outpost-agent package is already installed.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/repo.js';
import { agentStatus } from '../../shared/schema/control.js';
import { startDbusSession, type DbusSession } from '../support/dbus-session.js';

const exec = promisify(execFile);
const ok = (cmd: string, args: string[]) => exec(cmd, args).then(() => true, () => false);
/** True while dpkg has the package installed (after `dpkg -r` it only remembers it as removed). */
const installed = () => exec('dpkg-query', ['-W', '-f=${Status}', 'outpost-agent']).then((r) => r.stdout.includes('installed') && !r.stdout.includes('not-installed'), () => false);
const canRun =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  (await ok('dpkg-deb', ['--version'])) &&
  !(await installed()) &&
  !(await ok('getent', ['passwd', 'outpost']));

const STATE = '/var/lib/outpost';
/** Where the package puts things, and where it must leave nothing. */
// The local anchors folder is left out: other tests running beside this one trust and untrust their
// own Outpost roots there; this package's own anchor is checked by its label below.
const WATCHED = ['/usr/lib', '/usr/bin', '/lib/systemd/system', '/var/lib', '/etc'];

async function listing(): Promise<string[]> {
  const all = await Promise.all(WATCHED.map(async (d) => (await fs.readdir(d)).map((n) => path.join(d, n))));
  return all.flat().sort();
}

describe.runIf(canRun)('the outpost-agent .deb (dpkg-deb, dpkg -i, the unit\'s command, dpkg -r)', () => {
  let work: string;
  let bus: DbusSession | undefined;
  afterAll(async () => {
    bus?.close();
    // Only if the test failed halfway: never leave the package installed; dpkg's own record of it goes too.
    await exec('dpkg', ['-P', 'outpost-agent']).catch(() => undefined);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('installs, runs as its service, answers on its control API, and is removed without a trace', async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-deb-test-'));
    const before = await listing();
    const built = await exec(process.execPath, [path.join(REPO_ROOT, 'scripts/build-deb.mjs'), '--out', work], { maxBuffer: 1 << 20 });
    const deb = built.stdout.trim();
    expect(deb).toMatch(/outpost-agent_[\d.]+_\w+\.deb$/);
    const info = (await exec('dpkg-deb', ['--field', deb, 'Package', 'Depends'])).stdout;
    expect(info).toContain('Package: outpost-agent');

    await exec('dpkg', ['-i', deb]);
    const files = (await exec('dpkg', ['-L', 'outpost-agent'])).stdout.split('\n').filter((f) => f !== '');
    expect(files).toEqual(expect.arrayContaining(['/usr/bin/outpost', '/lib/systemd/system/outpost-agent.service', '/usr/lib/outpost/agent.json']));
    // postinst: the CA exists, belongs to the service user and is trusted in the system store.
    const caPem = await fs.readFile(path.join(STATE, 'ca/root.pem'), 'utf8');
    const label = `outpost-${createHash('sha256').update(STATE).digest('hex').slice(0, 12)}`;
    expect((await fs.readFile(`/usr/local/share/ca-certificates/${label}.crt`, 'utf8')).trim()).toBe(caPem.trim());
    const uid = Number((await exec('id', ['-u', 'outpost'])).stdout);
    const gid = Number((await exec('id', ['-g', 'outpost'])).stdout);
    expect((await fs.stat(path.join(STATE, 'ca/root.pem'))).uid).toBe(uid);

    // The unit's command, as the unit runs it.
    const unit = await fs.readFile('/lib/systemd/system/outpost-agent.service', 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    expect(/^User=outpost$/m.test(unit)).toBe(true);
    const home = /^Environment=HOME=(.+)$/m.exec(unit)?.[1];
    const agent = spawn(execStart[0]!, execStart.slice(1), { uid, gid, env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    let stderr = '';
    agent.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: agent.stdout }).on('line', (l) => {
        if (l.trimStart().startsWith('audit')) resolve();
      });
      agent.once('exit', (code) => reject(new Error(`the agent exited ${code}: ${stderr}`)));
    });
    const token = (await fs.readFile(path.join(STATE, 'control.token'), 'utf8')).trim();
    const runtime = JSON.parse(await fs.readFile(path.join(STATE, 'runtime.json'), 'utf8')) as { controlUrl: string; pid: number };
    expect(runtime.pid).toBe(agent.pid);
    const res = await fetch(`${runtime.controlUrl}/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const status = agentStatus.parse(await res.json());
    expect(status.ca.caFile).toBe(path.join(STATE, 'ca/root.pem'));
    // The packaged CLI reads the same agent.
    const doctor = await exec('/usr/bin/outpost', ['doctor', '--json', '--config', '/usr/lib/outpost/agent.json'], { env: { ...process.env, HOME: STATE } }).catch((e: { stdout: string }) => e);
    expect((JSON.parse(doctor.stdout) as { checks: Array<{ id: string; outcome: string }> }).checks.find((c) => c.id === 'agent')?.outcome).toBe('ok');

    // The system proxy enabled through the packaged CLI (GNOME settings in a private D-Bus session)...
    bus = await startDbusSession(work);
    const gsettings = async (...a: string[]) => (await exec('gsettings', a, { env: bus?.env })).stdout.trim();
    await gsettings('set', 'org.gnome.system.proxy', 'mode', "'manual'");
    await exec('/usr/bin/outpost', ['proxy', 'enable', '--config', '/usr/lib/outpost/agent.json'], { env: { ...bus.env, HOME: STATE } });
    expect(await gsettings('get', 'org.gnome.system.proxy', 'mode')).toBe("'auto'");

    // dpkg -r: prerm stops the running agent (by the pid in its runtime file), puts the proxy back and removes the trust.
    await exec('dpkg', ['-r', 'outpost-agent'], { env: bus.env });
    expect(await gsettings('get', 'org.gnome.system.proxy', 'mode')).toBe("'manual'");
    expect(await exited).toBe(0);
    for (const f of files.filter((f) => f.includes('outpost'))) await expect(fs.access(f)).rejects.toThrow();
    await expect(fs.access(STATE)).rejects.toThrow();
    expect(await ok('getent', ['passwd', 'outpost'])).toBe(false);
    expect((await fs.readdir('/etc/ssl/certs')).filter((n) => n.startsWith(label))).toEqual([]);
    await expect(fs.access(`/usr/local/share/ca-certificates/${label}.crt`)).rejects.toThrow();
    expect(await fs.readFile('/etc/ssl/certs/ca-certificates.crt', 'utf8')).not.toContain(caPem.trim().split('\n').slice(1, -1).join('\n'));
    expect(await listing()).toEqual(before);
    expect(await installed()).toBe(false);
  }, 300_000);
});
