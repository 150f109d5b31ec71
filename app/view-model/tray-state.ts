/**
 * Pure: what the tray shows for an agent state. The Electron main process renders it; tests check
 * it without Electron. States come from the agent's control API (`GET /v1/status`).
 */
import type { AgentStatus } from '../../shared/schema/control.js';

/** The agent as the tray sees it. */
export type AgentHealth =
  | { readonly kind: 'starting' }
  | {
      readonly kind: 'running';
      readonly paused: boolean;
      readonly degraded: string | null;
      readonly blockedToday: number;
      /** Something only the user can do, in words with the exact command (`retrustAction`); shown first. */
      readonly action?: string | null;
      /** The front doors in use (`doorsLine`), shown under the status line. */
      readonly doors?: string;
    }
  | { readonly kind: 'unreachable'; readonly since: number };

/** Icon, tooltip and the status line of the menu. */
export interface TrayView {
  readonly icon: 'ok' | 'paused' | 'warning' | 'off';
  readonly tooltip: string;
  readonly statusLine: string;
  /** Which front doors bring traffic in (proxy, transparent), when the agent said. */
  readonly doorsLine?: string;
}

/** Maps an agent state to the tray's icon, tooltip, status line and doors line. */
export function trayView(health: AgentHealth): TrayView {
  const view = statusView(health);
  return health.kind === 'running' && health.doors !== undefined ? { ...view, doorsLine: health.doors } : view;
}

/**
 * The front doors from `/v1/status`: the proxy's connections, and the transparent door's (or that
 * it is off, or that it routes by name alone because the original destination is unreadable).
 */
export function doorsLine(status: Pick<AgentStatus, 'engine' | 'transparent'>): string {
  const { proxy, transparent } = status.engine.doors;
  const door =
    status.transparent.port === null
      ? 'transparent off'
      : `transparent ${transparent} connections${status.transparent.originalDestination === null ? '' : ' (by name only)'}`;
  return `Doors: proxy ${proxy} connections · ${door}`;
}

function statusView(health: AgentHealth): TrayView {
  switch (health.kind) {
    case 'starting':
      return { icon: 'off', tooltip: 'Outpost is starting', statusLine: 'Starting…' };
    case 'unreachable':
      return { icon: 'warning', tooltip: 'Outpost: the agent is not running', statusLine: 'Agent not running' };
    case 'running': {
      if (health.action) return { icon: 'warning', tooltip: `Outpost: ${health.action}`, statusLine: `Action needed: ${health.action}` };
      if (health.degraded !== null) return { icon: 'warning', tooltip: `Outpost: ${health.degraded}`, statusLine: `Degraded: ${health.degraded}` };
      if (health.paused) return { icon: 'paused', tooltip: 'Outpost: protection paused', statusLine: 'Paused' };
      const blocked = health.blockedToday === 1 ? '1 request blocked today' : `${health.blockedToday} requests blocked today`;
      return { icon: 'ok', tooltip: `Outpost: protecting AI traffic (${blocked})`, statusLine: `Protected · ${blocked}` };
    }
    default: {
      const never: never = health;
      return never;
    }
  }
}

/**
 * The user's part of a re-trust the agent could not finish itself (the CA certificate changed and a
 * store that trusted the old one needs administrator rights), from `/v1/status` (`ca.retrust`); null when none.
 */
export function retrustAction(retrust: AgentStatus['ca']['retrust']): string | null {
  const command = retrust.command;
  return command === null ? null : `Outpost's certificate changed; trust it again: run ${command}`;
}
