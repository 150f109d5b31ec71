/**
 * Handshake pacing (issue 3, agent/proxy/handshake-pacer.ts): with a budget of N handshake steps per
 * event-loop turn, a burst of 3N new TLS connections all completes, and a request on a connection
 * that was already open is answered before the burst's last handshake: it does not queue behind the
 * whole burst; and a burst of CONNECTs read together asks for at most N new hosts' certificates per
 * turn (a leaf is built and its signature sent off when asked). Order of events, not timings.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTls, rawExchange, startWorld, testCertificates, type ProxyWorld } from './harness.js';

const N = 2;

/** Sends one request on `socket` and resolves with the response text once it is complete. */
function roundTrip(socket: tls.TLSSocket, host: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      const length = Number(/content-length: *(\d+)/i.exec(got)?.[1] ?? NaN);
      if (end === -1 || got.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve(got);
    };
    socket.on('data', onData);
    socket.write(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

describe('handshake pacing', () => {
  let world: ProxyWorld;
  beforeAll(async () => {
    world = await startWorld({
      hosts: ['api.openai.com', '*.pace.test'],
      transparent: true,
      engine: { handshakesPerTurn: N },
      // Answer at once: the round trip then takes the fewest possible turns (no upstream hop).
      gate: (base) => ({ ...base, admit: () => ({ kind: 'respond', status: 200, headers: { 'content-type': 'text/plain' }, body: 'pong' }) }),
    });
  });
  afterAll(async () => {
    await world.close();
  });

  it(`completes a burst of ${3 * N} CONNECT handshakes and answers an open connection before the burst's last`, async () => {
    const open = await connectTls(world.engine, 'api.openai.com:443', world.ca.caPem);
    expect(await roundTrip(open, 'api.openai.com')).toContain('pong');
    for (let attempt = 0; attempt < 3; attempt++) {
      // Tunnels first (answered 200), so that every ClientHello is sent in the same tick.
      const tunnels = await Promise.all(
        Array.from({ length: 3 * N }, (_, i) => rawExchange(world.engine, `CONNECT b${attempt}x${i}.pace.test:443 HTTP/1.1\r\nHost: b${attempt}x${i}.pace.test:443\r\n\r\n`)),
      );
      expect(tunnels.map((t) => t.status)).toEqual(Array(3 * N).fill(200));
      const order: string[] = [];
      const secured = tunnels.map(
        (t, i) =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            const s = tls.connect({ socket: t.socket, servername: `b${attempt}x${i}.pace.test`, ca: world.ca.caPem }, () => {
              order.push(`handshake ${i}`);
              resolve(s);
            });
            s.once('error', reject);
          }),
      );
      const answered = roundTrip(open, 'api.openai.com').then((text) => {
        order.push('answer');
        return text;
      });
      const sockets = await Promise.all(secured);
      expect(await answered).toContain('pong');
      expect(order.filter((e) => e.startsWith('handshake'))).toHaveLength(3 * N);
      // Without pacing the 3N handshakes run back to back in one turn, ahead of the request.
      expect(order.indexOf('answer'), order.join(', ')).toBeLessThan(order.length - 1);
      // Every paced connection works.
      for (const [i, s] of sockets.entries()) expect(await roundTrip(s, `b${attempt}x${i}.pace.test`)).toContain('pong');
      for (const s of sockets) s.destroy();
    }
    open.destroy();
  });

  it(`completes ${3 * N} transparent-door handshakes at once`, async () => {
    const port = world.engine.transparentPort as number;
    const sockets = await Promise.all(
      Array.from(
        { length: 3 * N },
        (_, i) =>
          new Promise<tls.TLSSocket>((resolve, reject) => {
            const raw = net.connect(port, '127.0.0.1');
            const s = tls.connect({ socket: raw, servername: `t${i}.pace.test`, ca: world.ca.caPem }, () => resolve(s));
            s.once('error', reject);
          }),
      ),
    );
    for (const [i, s] of sockets.entries()) expect(await roundTrip(s, `t${i}.pace.test`)).toContain('pong');
    for (const s of sockets) s.destroy();
  });
});

/** CONNECTs in one burst. */
const BURST = 24;

/** Opens `n` connections to the engine, then writes a CONNECT on each in one tick; posts the answers. */
const BURST_CLIENT = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, n } = workerData;
Promise.all(Array.from({ length: n }, () => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); }))).then(async (sockets) => {
  const answers = sockets.map((s) => new Promise((resolve) => s.once('data', (d) => resolve(d.toString('latin1')))));
  sockets.forEach((s, i) => s.write('CONNECT l' + i + '.pace.test:443 HTTP/1.1\\r\\nHost: l' + i + '.pace.test:443\\r\\n\\r\\n'));
  const got = await Promise.all(answers);
  sockets.forEach((s) => s.destroy());
  parentPort.postMessage(got);
});
`;

describe('handshake pacing: the leaf request', () => {
  /** Turns of the event loop, counted by a setImmediate chain while the test runs. */
  let turn = 0;
  let counting = true;
  const count = (): void => {
    turn++;
    if (counting) setImmediate(count);
  };
  /** The turn of each certificate request (for a new host, where its leaf would be built and signed). */
  const asked: number[] = [];
  const run = async (perTurn: number | null): Promise<number[]> => {
    asked.length = 0;
    const world = await startWorld({
      hosts: ['*.pace.test'],
      engine: { handshakesPerTurn: perTurn },
      certificates: (ca) => {
        const inner = testCertificates(ca);
        return {
          prewarm: (hosts: readonly string[]) => inner.prewarm(hosts),
          cannotIssue: (host: string) => inner.cannotIssue(host),
          secureContext: (host: string) => {
            asked.push(turn);
            return inner.secureContext(host);
          },
        };
      },
      gate: (base) => ({ ...base, admit: () => ({ kind: 'respond', status: 200, headers: { 'content-type': 'text/plain' }, body: 'pong' }) }),
    });
    try {
      // BURST CONNECTs written in one tick, from another thread (as clients are other processes),
      // on connections opened beforehand: the engine reads them together.
      const answers = await new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(BURST_CLIENT, { eval: true, workerData: { port: world.engine.address.port, n: BURST } });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(answers.every((a) => a.startsWith('HTTP/1.1 200'))).toBe(true);
      while (asked.length < BURST) await new Promise((r) => setTimeout(r, 5));
      const perTurnCounts = new Map<number, number>();
      for (const t of asked) perTurnCounts.set(t, (perTurnCounts.get(t) ?? 0) + 1);
      return [...perTurnCounts.values()];
    } finally {
      await world.close();
    }
  };

  it('asks for at most N new hosts\' certificates per turn when a burst of CONNECTs is read at once', async () => {
    counting = true;
    setImmediate(count);
    try {
      // Unpaced, how many of a burst's leaf requests share a turn depends on how the kernel and the
      // machine's load deliver the burst (from 1 to several here), so it is no premise to assert;
      // the pacer's bound itself is proven deterministically in test/unit/proxy/handshake-pacer.test.ts.
      // Here: the engine routes every leaf request through it (budget 1: never two in one turn).
      for (let attempt = 0; attempt < 3; attempt++) {
        const paced = await run(1);
        expect(Math.max(...paced)).toBe(1);
        expect(paced.reduce((a, b) => a + b, 0)).toBe(BURST);
      }
    } finally {
      counting = false;
    }
  });
});
