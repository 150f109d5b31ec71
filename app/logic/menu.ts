/**
 * Pure: the tray menu for an agent status (or none, when the agent does not answer). The main
 * process turns it into Electron's menu and wires each `action`.
 */
import type { AgentStatus, BudgetsView } from '../../shared/schema/control.js';
import { companyMenuLine } from './company-link.js';
import { plainReason } from './plain-reasons.js';
import { shortWhen } from './when.js';

export type MenuAction = 'open' | 'pause-15' | 'pause-60' | 'resume' | 'copy-shell-setup' | 'diagnostics' | 'export-diagnostics' | 'quit' | `pick-key:${string}` | 'pick-key-none';

export interface MenuItem {
  readonly label: string;
  readonly action?: MenuAction;
  readonly enabled: boolean;
  /** A radio item's state (the picked virtual key). */
  readonly checked?: boolean;
  /** Items of a submenu. */
  readonly submenu?: readonly MenuItem[];
}

/** The "Company key" submenu: none, or one of the keys this user may pick; null when there are none. */
export function keyMenu(keys: Pick<BudgetsView, 'virtualKeys' | 'selected'> | null): MenuItem | null {
  const pickable = keys?.virtualKeys.filter((k) => !k.revoked) ?? [];
  if (keys === null || pickable.length === 0) return null;
  return {
    label: keys.selected === null ? 'Company key: none' : `Company key: ${keys.selected}`,
    enabled: true,
    submenu: [
      { label: 'None (apps use their own keys)', action: 'pick-key-none', enabled: true, checked: keys.selected === null },
      ...pickable.map((k): MenuItem => ({ label: k.id, action: `pick-key:${k.id}`, enabled: true, checked: keys.selected === k.id })),
    ],
  };
}

/** The status line at the top of the menu. */
export function statusLine(status: AgentStatus | null): string {
  if (status === null) return 'Outpost is not running';
  if (status.paused) return `Paused until ${shortWhen(status.paused.until)}`;
  if (status.degraded.length > 0) return 'Needs attention: open Outpost for details';
  return 'Protected';
}

/** Under the status line: each thing that needs attention in plain words (once each), then the company link. */
export function detailLines(status: AgentStatus | null, now: Date = new Date()): string[] {
  if (status === null) return [];
  return [...new Set(status.degraded.map(plainReason))].concat(companyMenuLine(status.gateway, now));
}

/** The menu items, top to bottom (`null` label entries are separators). */
export function trayMenu(status: AgentStatus | null, keys: Pick<BudgetsView, 'virtualKeys' | 'selected'> | null = null): Array<MenuItem | null> {
  const items: Array<MenuItem | null> = [
    { label: statusLine(status), enabled: false },
    ...detailLines(status).map((label): MenuItem => ({ label, enabled: false })),
    { label: 'Open Outpost', action: 'open', enabled: true },
    null,
  ];
  const maxPause = status?.policy.pauseMinutes ?? null;
  if (status?.paused) items.push({ label: 'Resume protection', action: 'resume', enabled: true });
  else if (status !== null && maxPause !== null) {
    items.push({ label: 'Pause for 15 minutes', action: 'pause-15', enabled: maxPause >= 15 });
    items.push({ label: 'Pause for 1 hour', action: 'pause-60', enabled: maxPause >= 60 });
  }
  const picker = status === null ? null : keyMenu(keys);
  if (picker !== null) items.push(picker);
  items.push(
    { label: 'Copy shell setup', action: 'copy-shell-setup', enabled: status !== null },
    null,
    { label: 'Diagnostics…', action: 'diagnostics', enabled: true },
    { label: 'Export diagnostics for IT', action: 'export-diagnostics', enabled: status !== null },
    null,
    { label: 'Quit Outpost', action: 'quit', enabled: true },
  );
  return items;
}
