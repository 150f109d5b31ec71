import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_V } from '../../../shared/schema/protocol.js';
import { CSV_COLUMNS } from '../../../shared/audit/export.js';
import { canonicalEntry, hashRecord, GENESIS_HASH } from '../../../shared/audit/canonical.js';
import { pruneNow } from '../../../gateway/audit/retention.js';
import { makeChain } from '../../support/audit-entries.js';
import { SimAgent, startTestGateway, type TestGateway } from '../../support/gateway.js';

let gw: TestGateway;
let red: string;
let blue: string;

/** Uploads `records` as device `d` and waits for their ack. */
async function upload(device: { deviceId: string; credential: string }, records: ReturnType<typeof makeChain>): Promise<void> {
  const agent = await SimAgent.connect(gw.url, device);
  agent.send({ v: PROTOCOL_V, type: 'audit.batch', records });
  await agent.until('audit.ack', (m) => m.seq === records.at(-1)!.seq);
  agent.close();
}

beforeAll(async () => {
  gw = await startTestGateway();
  const r = await gw.enroll({ team: 'red' });
  const b = await gw.enroll({ team: 'blue' });
  red = r.deviceId;
  blue = b.deviceId;
  const t0 = Date.parse('2026-12-01T10:00:00Z');
  const at = (i: number): string => new Date(t0 + i * 60_000).toISOString();
  // red: 30 records, vk:team-a, $0.01 each; every third blocked by model gpt-x.
  const redChain = makeChain(30, 1, undefined, { principal: 'vk:team-a', costUsd: 0.01 }).map((rec, i) => ({ ...rec, time: at(i) }));
  await upload(r, rechain(redChain.map((rec, i) => ({ ...rec, decision: i % 3 === 0 ? 'block' : 'allow', model: i % 3 === 0 ? 'gpt-x' : 'gpt-4.1-mini' }))));
  await upload(b, rechain(makeChain(10, 1, undefined, { principal: 'user:bob@acme.example', costUsd: 0.5, provider: 'anthropic', model: 'claude-x' }).map((rec, i) => ({ ...rec, time: at(100 + i) }))));
});
afterAll(() => gw.close());

/** Re-links records after a test changed their fields, as the agent would have chained them. */
function rechain(records: ReturnType<typeof makeChain>): ReturnType<typeof makeChain> {
  let prev = GENESIS_HASH;
  return records.map((r) => {
    const { seq, prevHash: _p, hash: _h, ...entry } = r;
    const hash = hashRecord(seq, prev, canonicalEntry(entry));
    const out = { ...entry, seq, prevHash: prev, hash };
    prev = hash;
    return out;
  });
}

describe('audit at the gateway', () => {
  it('filters by device, principal, decision, provider, model and time', async () => {
    const q = async (qs: string): Promise<number> => (await gw.admin('GET', `/admin/v1/audit?limit=1000&${qs}`)).body.records.length;
    expect(await q(`device=${red}`)).toBe(30);
    expect(await q('principal=user:bob@acme.example')).toBe(10);
    expect(await q(`device=${red}&decision=block`)).toBe(10);
    expect(await q('provider=anthropic')).toBe(10);
    expect(await q('model=gpt-x')).toBe(10);
    expect(await q('since=2026-12-01T10:10:00Z&until=2026-12-01T10:20:00Z')).toBe(10);
    // An offset is the same instant.
    expect(await q('since=2026-12-01T11:10:00%2B01:00&until=2026-12-01T11:20:00%2B01:00')).toBe(10);
    const bad = await gw.admin('GET', '/admin/v1/audit?decision=maybe&since=yesterday&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.problems.map((p: { path: string }) => p.path).sort()).toEqual(['$.decision', '$.limit', '$.since']);
  });

  it('pages by keyset, newest first, every record exactly once', async () => {
    const seen: string[] = [];
    let cursor: number | null = null;
    do {
      const page: any = await gw.admin('GET', `/admin/v1/audit?limit=7${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.body.records.map((r: { id: string }) => r.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });

  it('exports as streamed NDJSON and CSV with the same filters', async () => {
    const nd = await gw.admin('GET', `/admin/v1/audit/export?format=ndjson&device=${blue}`);
    expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string });
    expect(lines.map((l) => l.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const csv = await gw.admin('GET', '/admin/v1/audit/export?format=csv');
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(41);
    expect((await gw.admin('GET', '/admin/v1/audit/export?format=xml')).body.error.problems[0].path).toBe('$.format');
  });

  it('sums spend per principal, virtual key and team across devices', async () => {
    const by = async (g: string): Promise<Array<{ key: string; requests: number; costUsd: number }>> => (await gw.admin('GET', `/admin/v1/spend?by=${g}`)).body.rows;
    const principals = await by('principal');
    expect(principals.map((r) => [r.key, r.requests])).toEqual([
      ['user:bob@acme.example', 10],
      ['vk:team-a', 30],
    ]);
    expect(principals[0]!.costUsd).toBeCloseTo(5, 9);
    expect(principals[1]!.costUsd).toBeCloseTo(0.3, 9);
    expect((await by('virtualKey')).map((r) => r.key)).toEqual(['vk:team-a']);
    expect((await by('team')).map((r) => r.key)).toEqual(['blue', 'red']);
    expect((await gw.admin('GET', '/admin/v1/spend?by=planet')).body.error.problems[0].path).toBe('$.by');
  });

  it('prunes records past the retention setting, and acks stay where they were', async () => {
    await gw.admin('PUT', '/admin/v1/settings/retention', { days: 1 });
    expect(await pruneNow(gw.gateway.store, Date.parse('2026-12-02T10:15:00Z'))).toBe(15);
    expect((await gw.admin('GET', '/admin/v1/audit?limit=1000')).body.records).toHaveLength(25);
    expect(await gw.gateway.store.auditAck(red)).toBe(30);
  });
});
