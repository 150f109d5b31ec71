/** `outpost audit tail|export|verify` against a real store, through the built CLI. */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../agent/audit/audit-log.js';
import { REPO_ROOT } from '../../support/repo.js';
import { makeEntry } from '../../support/audit-entries.js';
import { tempHome } from './temp-home.js';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist/agent/cli/main.js');

async function outpost(home: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, OUTPOST_HOME: home } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
});

/** A home whose store holds records at 09:00, 10:00, … on 2026-11-20; the log stays open (agent running). */
async function homeWith(n: number): Promise<{ home: string; log: AuditLog }> {
  const home = await tempHome();
  const log = AuditLog.open({ file: path.join(home, 'outpost.db'), spoolMaxBytes: 1 << 30, backgroundCheckpoints: false });
  logs.push(log);
  for (let i = 0; i < n; i++) {
    log.record(makeEntry({ time: `2026-11-20T${String(9 + i).padStart(2, '0')}:00:00.000Z`, model: `model-${i}`, prompt: i === 1 ? '=HYPERLINK("x")' : `hello, "world" ${i}` }));
  }
  return { home, log };
}

describe('outpost audit', () => {
  it('tail prints the latest records, oldest first, as text or JSON', async () => {
    const { home } = await homeWith(5);
    const text = await outpost(home, 'audit', 'tail', '-n', '2');
    expect(text.code).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^#4 2026-11-20T12:00:00.000Z allow\s+200 api.openai.com chat.completions model-3 vk:team-a \(openai-node\)/);
    const json = await outpost(home, 'audit', 'tail', '-n', '3', '--json');
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([3, 4, 5]);
  });

  it('tail --follow prints records written after it started, until interrupted', async () => {
    const { home, log } = await homeWith(1);
    const child = spawn(process.execPath, [CLI, 'audit', 'tail', '--follow', '--json'], { env: { ...process.env, OUTPOST_HOME: home } });
    let out = '';
    const seen = (seq: number): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (out.split('\n').some((l) => l.includes(`"seq":${seq},`))) {
            child.stdout.off('data', onData);
            resolve();
          }
        };
        const onData = (d: Buffer): void => {
          out += d.toString();
          check();
        };
        child.stdout.on('data', onData);
        check();
      });
    await seen(1);
    log.record(makeEntry({ model: 'followed' }));
    await seen(2);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('"model":"followed"');
  });

  it('export writes a time range as JSON Lines with the chain fields', async () => {
    const { home } = await homeWith(5);
    const r = await outpost(home, 'audit', 'export', '--since', '2026-11-20T10:00:00Z', '--until', '2026-11-20T12:00:00Z', '--format', 'jsonl');
    expect(r.code).toBe(0);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string; prevHash: string });
    expect(recs.map((x) => x.seq)).toEqual([2, 3]);
    expect(recs[1]?.prevHash).toBe(recs[0]?.hash);
  });

  it('export writes CSV with a header, quoted cells and defused formulas', async () => {
    const { home } = await homeWith(3);
    const r = await outpost(home, 'audit', 'export', '--format', 'csv');
    const rows = r.stdout.split('\r\n');
    expect(rows[0]?.startsWith('id,time,kind,device,user,')).toBe(true);
    expect(rows[0]?.endsWith(',seq,prevHash,hash')).toBe(true);
    expect(rows[1]).toContain('"hello, ""world"" 0"');
    expect(rows[2]).toContain(`"'=HYPERLINK(""x"")"`);
    expect(rows.filter((x) => x.length > 0)).toHaveLength(4);
  });

  it('export --out writes a file only its owner can read, and says how many records it holds', async () => {
    const { home } = await homeWith(3);
    const out = path.join(home, 'export.jsonl');
    const r = await outpost(home, 'audit', 'export', '--since', '2026-11-20T10:00:00Z', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`2 records written to ${out}`);
    expect((await fs.readFile(out, 'utf8')).trim().split('\n')).toHaveLength(2);
    expect((await fs.stat(out)).mode & 0o077).toBe(0);
  });

  it('export refuses a malformed time, naming the valid forms', async () => {
    const { home } = await homeWith(1);
    const r = await outpost(home, 'audit', 'export', '--since', 'yesterday');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expected an ISO 8601 date or time');
  });

  it('verify says ok for an intact chain and names the first broken record otherwise (exit 1)', async () => {
    const { home, log } = await homeWith(6);
    const ok = await outpost(home, 'audit', 'verify');
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/^ok: 6 records verified \(records 1–6\)/);
    log.connection().prepare('DELETE FROM audit WHERE seq = 4').run();
    const broken = await outpost(home, 'audit', 'verify', '--json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ ok: false, checked: 3, problem: { seq: 4, kind: 'missing' } });
  });

  it('says plainly when there is no store yet', async () => {
    const home = await tempHome();
    const r = await outpost(home, 'audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no audit store at');
  });
});
