/**
 * The control API's event stream (`GET /v1/events`): status changes, each decision that is not a
 * plain allow, budget thresholds. Publishing never blocks or throws into the request path: events go
 * to the open streams' sockets, and a stream whose client reads too slowly is closed (it reconnects
 * and gets the status afresh) rather than buffered without bound.
 */
import type http from 'node:http';
import type { Governor } from '../../shared/core/decide.js';
import type { AuditEntry } from '../../shared/schema/audit.js';
import type { ControlEvent } from '../../shared/schema/control.js';
import { toActivityItem } from './activity.js';
import { readBudgets } from './budgets.js';

/** Bytes a slow stream may hold unsent before it is closed. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A comment line this often keeps proxies and the client's idle timers from closing the stream. */
const HEARTBEAT_MS = 15_000;
/** Budget thresholds announced, in percent of the limit. */
const THRESHOLDS = [100, 80] as const;

function frame(event: ControlEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Open event streams and what has been announced. */
export class ControlEvents {
  private readonly streams = new Set<http.ServerResponse>();
  /** `budgetId@windowEnd` → the highest threshold announced for that window. */
  private readonly announced = new Map<string, number>();
  private lastStatus = '';

  constructor(
    private readonly status: () => Extract<ControlEvent, { type: 'status' }>,
    private readonly governor: () => Governor,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.streams.size;
  }

  /** Serves one `GET /v1/events`: the current status first, then events until the client leaves. */
  open(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(frame(this.status()));
    this.streams.add(res);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = (): void => {
      clearInterval(heartbeat);
      this.streams.delete(res);
    };
    req.once('close', close);
    res.once('close', close);
  }

  /** Ends every stream (agent stop). */
  closeAll(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  /** Sends the status when it differs from the last one sent. */
  checkStatus(): void {
    const now = this.status();
    const key = JSON.stringify(now);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.publish(now);
  }

  /** Called for every audit record: decisions that are not a plain allow, and budgets after a charge. */
  recorded(entry: AuditEntry): void {
    if (entry.kind !== 'request' || this.streams.size === 0) return;
    if (entry.decision !== 'allow') {
      const { seq: _seq, ...item } = toActivityItem({ ...entry, seq: 1, prevHash: '', hash: '' });
      this.publish({ type: 'decision', item });
    }
    if ((entry.costUsd ?? 0) > 0) this.checkBudgets(Date.now());
  }

  private checkBudgets(nowMs: number): void {
    const seen = new Set<string>();
    for (const p of readBudgets(this.governor(), nowMs).principals) {
      for (const b of p.budgets) {
        const key = `${b.id}@${b.resetsAt}`;
        if (seen.has(key) || b.limitUsd <= 0) continue;
        seen.add(key);
        const percent = (b.spentUsd / b.limitUsd) * 100;
        const crossed = THRESHOLDS.find((t) => percent >= t);
        if (crossed === undefined || (this.announced.get(key) ?? 0) >= crossed) continue;
        this.announced.set(key, crossed);
        this.publish({ type: 'budget', budgetId: b.id, scope: b.scope, threshold: crossed, spentUsd: b.spentUsd, limitUsd: b.limitUsd, resetsAt: b.resetsAt });
      }
    }
  }

  private publish(event: ControlEvent): void {
    const text = frame(event);
    for (const res of this.streams) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.streams.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}
