/**
 * The Electron main process: the tray and its menu, nothing else. Thin by design: all proxying
 * and policy runs in the agent (a separate process, `outpost start`), which the tray only watches.
 */
import { app, Menu, Tray, nativeImage } from 'electron';
import { trayView, type AgentHealth } from '../view-model/tray-state.js';

let tray: Tray | null = null;

function render(health: AgentHealth): void {
  const view = trayView(health);
  tray ??= new Tray(nativeImage.createEmpty());
  tray.setToolTip(view.tooltip);
  const doors = view.doorsLine === undefined ? [] : [{ label: view.doorsLine, enabled: false }];
  tray.setContextMenu(Menu.buildFromTemplate([{ label: view.statusLine, enabled: false }, ...doors, { type: 'separator' }, { label: 'Quit Outpost', role: 'quit' }]));
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void app.whenReady().then(() => render({ kind: 'starting' }));
}
