/**
 * The window's only bridge to the main process: `window.outpost`, a handful of typed calls over
 * IPC (checked in the main process by app/logic/ipc.ts) and the agent's event stream. Nothing else
 * of Node or Electron reaches the page (contextIsolation, sandbox, no nodeIntegration).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { OutpostBridge } from '../renderer/bridge.js';
import type { ControlEvent } from '../../shared/schema/control.js';

const bridge: OutpostBridge = {
  status: () => ipcRenderer.invoke('outpost:status'),
  activity: (limit) => ipcRenderer.invoke('outpost:activity', limit),
  budgets: () => ipcRenderer.invoke('outpost:budgets'),
  pause: (minutes) => ipcRenderer.invoke('outpost:pause', minutes),
  resume: () => ipcRenderer.invoke('outpost:resume'),
  selectKey: (id) => ipcRenderer.invoke('outpost:select-key', id),
  diagnostics: () => ipcRenderer.invoke('outpost:diagnostics'),
  exportDiagnostics: () => ipcRenderer.invoke('outpost:export-diagnostics'),
  onEvent: (listener) => {
    ipcRenderer.on('outpost:event', (_e, event: ControlEvent) => listener(event));
  },
};
contextBridge.exposeInMainWorld('outpost', bridge);
