/**
 * The Electron main process: tray, menu, window, notifications. Thin by design: every decision is a
 * pure function in app/logic or app/view-model (unit-tested); the agent is a separate process
 * (`outpost start`) the tray talks to over its control API, starting it only when none answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { app, BrowserWindow, clipboard, ipcMain, Menu, Notification, Tray, nativeImage, shell, type MenuItemConstructorOptions } from 'electron';
import { trayMenu, statusLine, type MenuAction, type MenuItem } from '../logic/menu.js';
import { NotificationThrottle } from '../logic/notifications.js';
import { allowNavigation, checkIpc, IPC_CHANNELS } from '../logic/ipc.js';
import { parseEvent, takeBlocks } from '../logic/events.js';
import { afterExit } from '../logic/supervise.js';
import type { AgentStatus, BudgetsView } from '../../shared/schema/control.js';

const HOME = process.env.OUTPOST_HOME ?? path.join(os.homedir(), '.outpost');
// Built layout: this file is dist/app/app/main/main.js (tsc -p app), the page is bundled into
// dist/app/renderer/ (scripts/build-app-page.mjs), the icons stay in app/assets/.
const PAGE = path.join(__dirname, '..', '..', 'renderer', 'index.html');
const PAGE_URL = `file://${PAGE}`;
const ICONS = path.join(__dirname, '..', '..', '..', '..', 'app', 'assets');

let tray: Tray | null = null;
let window: BrowserWindow | null = null;
let child: ChildProcess | null = null;
let status: AgentStatus | null = null;
let keys: BudgetsView | null = null;
let quitting = false;
const exits: number[] = [];
const throttle = new NotificationThrottle();

async function control(): Promise<{ url: string; token: string } | null> {
  try {
    const runtime = JSON.parse(await fs.readFile(path.join(HOME, 'runtime.json'), 'utf8')) as { controlUrl: string };
    const token = (await fs.readFile(path.join(HOME, 'control.token'), 'utf8')).trim();
    return { url: runtime.controlUrl, token };
  } catch {
    return null;
  }
}

async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
  const c = await control();
  if (c === null) throw new Error('Outpost is not running');
  const res = await fetch(`${c.url}${route}`, { method, headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(json.error?.message ?? `the agent answered ${res.status}`);
  return json;
}

const handlers: Record<keyof typeof IPC_CHANNELS, (arg: unknown) => Promise<unknown>> = {
  'outpost:status': () => call('GET', '/v1/status'),
  'outpost:activity': (limit) => call('GET', `/v1/activity?limit=${String(limit)}`),
  'outpost:budgets': () => call('GET', '/v1/budgets'),
  'outpost:pause': (minutes) => call('POST', '/v1/pause', { minutes }),
  'outpost:resume': () => call('POST', '/v1/resume', {}),
  'outpost:select-key': (id) => call('POST', '/v1/virtual-key', { id }),
  'outpost:diagnostics': () => call('GET', '/v1/diagnostics'),
  'outpost:export-diagnostics': () => call('POST', '/v1/diagnostics/export', {}),
};

function openWindow(): void {
  if (window !== null) return window.show();
  window = new BrowserWindow({
    width: 760,
    height: 820,
    title: 'Outpost',
    webPreferences: { preload: path.join(__dirname, 'preload.js'), contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true },
  });
  window.webContents.on('will-navigate', (e, url) => {
    if (!allowNavigation(url, PAGE_URL)) e.preventDefault();
  });
  window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  window.on('closed', () => (window = null));
  void window.loadFile(PAGE);
}

async function act(action: MenuAction): Promise<void> {
  if (action === 'open') return openWindow();
  if (action === 'pause-15' || action === 'pause-60') await call('POST', '/v1/pause', { minutes: action === 'pause-15' ? 15 : 60 });
  else if (action === 'resume') await call('POST', '/v1/resume', {});
  else if (action === 'copy-shell-setup') clipboard.writeText('eval "$(outpost env)"');
  else if (action === 'diagnostics') openWindow();
  else if (action === 'export-diagnostics') shell.showItemInFolder((await call<{ file: string }>('POST', '/v1/diagnostics/export')).file);
  else if (action === 'pick-key-none') await call('POST', '/v1/virtual-key', { id: null });
  else if (action.startsWith('pick-key:')) await call('POST', '/v1/virtual-key', { id: action.slice('pick-key:'.length) });
  else if (action === 'quit') app.quit();
  await refresh();
}

function render(): void {
  const state = status === null ? 'off' : status.paused ? 'paused' : status.degraded.length > 0 ? 'degraded' : 'protected';
  tray ??= new Tray(nativeImage.createFromPath(path.join(ICONS, `tray-${state}.png`)));
  tray.setImage(nativeImage.createFromPath(path.join(ICONS, `tray-${state}.png`)));
  tray.setToolTip(`Outpost: ${statusLine(status)}`);
  const toElectron = (item: MenuItem): MenuItemConstructorOptions => ({
    label: item.label,
    enabled: item.enabled,
    ...(item.checked === undefined ? {} : { type: 'radio', checked: item.checked }),
    ...(item.submenu === undefined ? {} : { submenu: item.submenu.map(toElectron) }),
    ...(item.action === undefined ? {} : { click: () => void act(item.action as MenuAction).catch(() => undefined) }),
  });
  const template: MenuItemConstructorOptions[] = trayMenu(status, keys).map((item) => (item === null ? { type: 'separator' } : toElectron(item)));
  tray.setContextMenu(Menu.buildFromTemplate(template));
}

async function refresh(): Promise<void> {
  status = await call<AgentStatus>('GET', '/v1/status').catch(() => null);
  keys = status === null ? null : await call<BudgetsView>('GET', '/v1/budgets').catch(() => null);
  render();
}

/** Starts the agent as a child (restarted after an unexpected exit as `afterExit` says). */
function startAgent(): void {
  child = spawn(process.env.OUTPOST_CLI ?? 'outpost', ['start'], { stdio: 'ignore' });
  child.once('exit', () => {
    if (quitting) return;
    exits.push(Date.now());
    const step = afterExit(exits, Date.now());
    if (step.action === 'restart') setTimeout(startAgent, step.delayMs).unref();
    else if (Notification.isSupported()) new Notification({ title: 'Outpost stopped', body: step.message }).show();
  });
}

/** Starts the agent when none answers; stops it softly, then hard after 3 s, when the tray quits. */
async function superviseAgent(): Promise<void> {
  if ((await call('GET', '/v1/status').catch(() => null)) !== null) return;
  startAgent();
  app.on('before-quit', () => {
    quitting = true;
    if (child === null || child.exitCode !== null) return;
    child.kill('SIGTERM');
    setTimeout(() => child?.kill('SIGKILL'), 3000).unref();
  });
}

async function followEvents(): Promise<void> {
  for (;;) {
    try {
      const c = await control();
      if (c === null) throw new Error('not running');
      const res = await fetch(`${c.url}/v1/events`, { headers: { authorization: `Bearer ${c.token}` } });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const { blocks, rest } = takeBlocks(buffer + decoder.decode(value, { stream: true }));
        buffer = rest;
        for (const block of blocks) {
          // Validated before use: an event this tray does not know, or a malformed one, is skipped.
          const event = parseEvent(block);
          if (event === null) continue;
          window?.webContents.send('outpost:event', event);
          const note = throttle.offer(event);
          if (note !== null && Notification.isSupported()) {
            const n = new Notification({ title: note.title, body: note.body });
            n.on('click', openWindow);
            n.show();
          }
          if (event.type === 'status') void refresh();
        }
      }
    } catch {
      // The agent went away: the tray shows it, and tries again.
    }
    status = null;
    render();
    await new Promise((r) => setTimeout(r, 2000));
  }
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', openWindow);
  app.on('window-all-closed', () => undefined); // a tray app stays when its window closes
  void app.whenReady().then(async () => {
    for (const channel of Object.keys(IPC_CHANNELS) as Array<keyof typeof IPC_CHANNELS>) {
      ipcMain.handle(channel, (e, arg: unknown) => {
        const check = checkIpc(channel, arg, e.senderFrame?.url ?? '', PAGE_URL, e.senderFrame === e.sender.mainFrame);
        if (!check.ok) throw new Error(check.reason);
        return handlers[channel](check.arg);
      });
    }
    await superviseAgent();
    await refresh();
    void followEvents();
  });
}
