/**
 * A private D-Bus session bus for GSettings tests: its own XDG_CONFIG_HOME and XDG_RUNTIME_DIR under
 * `dir`, so dconf (started by the bus, with the bus's environment) never touches real settings.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';

/** A running session bus and the environment that reaches it. */
export interface DbusSession {
  readonly env: NodeJS.ProcessEnv;
  close(): void;
}

/** Starts `dbus-daemon --session` with its settings under `dir`. */
export async function startDbusSession(dir: string): Promise<DbusSession> {
  const isolated = { XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_RUNTIME_DIR: path.join(dir, 'run'), XDG_CURRENT_DESKTOP: 'GNOME' };
  await fs.mkdir(isolated.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', '--nopidfile'], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...isolated } });
  const address = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: bus.stdout! }).once('line', resolve);
    bus.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
  });
  return {
    env: { ...process.env, ...isolated, DBUS_SESSION_BUS_ADDRESS: address },
    close: () => {
      if (bus.exitCode === null) bus.kill('SIGTERM');
    },
  };
}
