/**
 * Turning the Linux redirect on and off for a running agent, and keeping it from outliving it.
 *
 * Safety against a black hole (a redirect to a port nobody listens on) is a watchdog, not a rule
 * shape: nftables has no match for "a listener exists" in the output hook (the `socket` expression
 * works in prerouting/input only), so `enable` starts a detached watchdog process that removes the
 * table as soon as the agent's process is gone (kill -9 included), and the agent removes it itself
 * on a clean stop when it may. Both remove the same one table.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RuntimeInfo } from '../../shared/schema/control.js';
import { installRedirect, readRedirect, removeRedirect, type InstalledRedirect } from './nftables.js';

/** How often the watchdog asks whether the agent's process still exists (ms). */
export const WATCHDOG_PID_INTERVAL_MS = 200;
/** How often it checks its table is still the one it guards (ms): `disable` or a new `enable` end it. */
const WATCHDOG_TABLE_INTERVAL_MS = 2_000;

/** What `enable` needs from the running agent. */
export interface RedirectTarget {
  readonly pid: number;
  readonly uid: number;
  readonly port: number;
}

/** The running agent's redirect target from its runtime file; an error in words when it has none. */
export function redirectTarget(runtime: RuntimeInfo | null, runtimeFile: string): RedirectTarget | string {
  if (runtime === null) return 'Outpost is not running: start it with transparent.enabled in its config first';
  if (runtime.transparentPort === null) return 'the running agent has no transparent listener: set transparent.enabled to true in its config and restart it';
  // The file's owner is the uid the agent runs as: its own connections must never be redirected.
  const uid = fs.statSync(runtimeFile).uid;
  return { pid: runtime.pid, uid, port: runtime.transparentPort };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The CLI entry point of this build (the watchdog runs `outpost transparent watchdog`). */
function cliMain(): string {
  return fileURLToPath(new URL('../cli/main.js', import.meta.url));
}

/**
 * Installs the redirect for `target` and starts its watchdog (detached: it outlives this command).
 * The rules are installed first without a watchdog mark, then again with it, so status always names
 * the live watchdog.
 */
export async function enableRedirect(target: RedirectTarget): Promise<InstalledRedirect> {
  await installRedirect({ port: target.port, exemptUid: target.uid });
  const main = cliMain();
  if (!main.endsWith('.js')) throw new Error('transparent enable runs from the built CLI (npm run build)');
  const child = spawn(process.execPath, [main, 'transparent', 'watchdog', '--pid', String(target.pid), '--port', String(target.port)], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  if (child.pid === undefined) {
    await removeRedirect();
    throw new Error('could not start the transparent watchdog; the redirect was removed again');
  }
  await installRedirect({ port: target.port, exemptUid: target.uid, watchdogPid: child.pid });
  const installed = await readRedirect();
  if (installed === null) throw new Error('the redirect did not install');
  return installed;
}

/**
 * The watchdog's loop: removes the table once the agent's process is gone; ends by itself when the
 * table is removed or replaced (another watchdog, another port). Resolves with what it did.
 */
export function watchAgent(pid: number, port: number): Promise<'removed' | 'superseded'> {
  return new Promise((resolve) => {
    let busy = false;
    let lastTableCheck = 0;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        try {
          if (!alive(pid)) {
            const installed = await readRedirect().catch(() => null);
            if (installed === null || installed.port === port) await removeRedirect().catch(() => false);
            clearInterval(timer);
            resolve('removed');
            return;
          }
          if (Date.now() - lastTableCheck >= WATCHDOG_TABLE_INTERVAL_MS) {
            lastTableCheck = Date.now();
            const installed = await readRedirect().catch(() => null);
            if (installed === null || installed.port !== port || (installed.watchdogPid !== null && installed.watchdogPid !== process.pid)) {
              clearInterval(timer);
              resolve('superseded');
            }
          }
        } finally {
          busy = false;
        }
      })();
    }, WATCHDOG_PID_INTERVAL_MS);
  });
}

/** Whether anything accepts connections on the loopback `port` (the listener the rules point at). */
export function listening(port: number): Promise<boolean> {
  return import('node:net').then(
    ({ default: net }) =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
  );
}

/**
 * On the agent's clean stop: removes the redirect if it points at this agent's listener. Quietly
 * does nothing without the rights to (an agent running as a user; its watchdog, root, removes it).
 */
export async function releaseRedirect(port: number): Promise<void> {
  try {
    const installed = await readRedirect();
    if (installed?.port === port) await removeRedirect();
  } catch {
    // No nft, or no CAP_NET_ADMIN: the watchdog sees the process end and removes it.
  }
}
