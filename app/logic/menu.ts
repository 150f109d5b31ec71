/**
 * Pure: the tray menu for an agent status (or none, when the agent does not answer). The main
 * process turns it into Electron's menu and wires each `action`.
 */
import type { AgentStatus } from '../../shared/schema/control.js';

export type MenuAction = 'open' | 'pause-15' | 'pause-60' | 'resume' | 'copy-shell-setup' | 'diagnostics' | 'export-diagnostics' | 'quit';

export interface MenuItem {
  readonly label: string;
  readonly action?: MenuAction;
  readonly enabled: boolean;
}

/** The status line at the top of the menu. */
export function statusLine(status: AgentStatus | null): string {
  if (status === null) return 'Outpost is not running';
  if (status.paused) return `Paused until ${new Date(status.paused.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  if (status.degraded.length > 0) return 'Needs attention: open Outpost for details';
  return 'Protected';
}

/** The menu items, top to bottom (`null` label entries are separators). */
export function trayMenu(status: AgentStatus | null): Array<MenuItem | null> {
  const items: Array<MenuItem | null> = [{ label: statusLine(status), enabled: false }, { label: 'Open Outpost', action: 'open', enabled: true }, null];
  const maxPause = status?.policy.pauseMinutes ?? null;
  if (status?.paused) items.push({ label: 'Resume protection', action: 'resume', enabled: true });
  else if (status !== null && maxPause !== null) {
    items.push({ label: 'Pause for 15 minutes', action: 'pause-15', enabled: maxPause >= 15 });
    items.push({ label: 'Pause for 1 hour', action: 'pause-60', enabled: maxPause >= 60 });
  }
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
