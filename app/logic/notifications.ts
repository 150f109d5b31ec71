/**
 * Pure: which native notification to show for the agent's events. At most one a minute (WARP's
 * rule: a person reads the first, the rest are noise); what comes in between is summarised in the
 * next one. Short (≤ 100 characters of body), naming the rule and what to do.
 */
import type { ControlEvent } from '../../shared/schema/control.js';

/** A notification to show. */
export interface TrayNotification {
  readonly title: string;
  readonly body: string;
}

/** Shortest gap between two notifications. */
export const NOTIFY_EVERY_MS = 60_000;
/** Longest body. */
export const MAX_BODY_CHARS = 100;

function clip(text: string): string {
  return text.length <= MAX_BODY_CHARS ? text : `${text.slice(0, MAX_BODY_CHARS - 1).trimEnd()}…`;
}

/** The words for one event, or null when it is not worth interrupting anyone. */
export function describeEvent(event: ControlEvent): TrayNotification | null {
  if (event.type === 'decision') {
    const { item } = event;
    const rule = item.rules.find((r) => r.action === 'block' || r.action === 'redact' || r.action === 'deny' || r.action === 'limit') ?? item.rules[0];
    const service = item.provider ?? item.host;
    if (item.decision === 'block') return { title: `Outpost blocked a request to ${service}`, body: clip(`${rule === undefined ? '' : `Rule “${rule.id}”. `}${item.advice ?? ''}`) };
    if (item.decision === 'redact') return { title: `Outpost removed sensitive text sent to ${service}`, body: clip(`${rule === undefined ? '' : `Rule “${rule.id}”. `}Nothing to do; open Outpost for details.`) };
    return null;
  }
  if (event.type === 'budget') {
    const what = event.scope === 'org' ? 'The company AI budget' : 'Your AI budget';
    return event.threshold >= 100
      ? { title: `${what} is used up`, body: clip(`New AI requests on it are refused until ${new Date(event.resetsAt).toLocaleDateString()}. Ask IT if you need more.`) }
      : { title: `${what} is ${event.threshold}% used`, body: clip(`$${event.spentUsd.toFixed(2)} of $${event.limitUsd.toFixed(2)} spent this period.`) };
  }
  return null;
}

/** Decides, event by event, what to show now. */
export class NotificationThrottle {
  private lastShown = Number.NEGATIVE_INFINITY;
  private held = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The notification to show for `event` now, or null (held back and counted for the next one). */
  offer(event: ControlEvent): TrayNotification | null {
    const note = describeEvent(event);
    if (note === null) return null;
    const now = this.now();
    if (now - this.lastShown < NOTIFY_EVERY_MS) {
      this.held++;
      return null;
    }
    this.lastShown = now;
    const more = this.held;
    this.held = 0;
    return more === 0 ? note : { title: note.title, body: clip(`+${more} more since the last notice. ${note.body}`) };
  }
}
