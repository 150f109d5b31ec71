/**
 * Fleet-scoped rate limits (policy `rateLimit.scope: "fleet"`): every connected device enforces an
 * equal share of each such limit, `1 / devices online` (across replicas: the store's online flags).
 * The share goes to a device after its `welcome`, and to every device of this replica whenever the
 * count changed (checked on each connect, disconnect and heartbeat tick, so a change on another
 * replica arrives within one heartbeat).
 */
import { PROTOCOL_V } from '../../shared/schema/protocol.js';
import type { GatewayStore } from '../store/store.js';
import type { AgentSession } from './session.js';

/** Keeps the devices' shares current. */
export class RateShares {
  private devices = -1;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly store: Pick<GatewayStore, 'listDevices'>) {}

  /** Recounts; sends the share to `fresh` (a new session) and, when the count changed, to all of `sessions`. */
  refresh(sessions: () => Iterable<AgentSession>, fresh: AgentSession | null = null): Promise<void> {
    // One count at a time: a burst of connects is counted in order.
    this.running = this.running.then(async () => {
      const online = (await this.store.listDevices()).filter((d) => d.online && !d.revoked).length;
      const changed = online !== this.devices;
      this.devices = online;
      const n = Math.max(1, online);
      const text = JSON.stringify({ v: PROTOCOL_V, type: 'rate.share', share: 1 / n, devices: online });
      for (const s of changed ? sessions() : fresh === null ? [] : [fresh]) if (s.isReady) s.send(text);
    });
    return this.running;
  }

  /** Resolves once no count is running (the hub waits for it before the store closes). */
  idle(): Promise<void> {
    return this.running.catch(() => undefined);
  }
}
