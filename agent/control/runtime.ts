/**
 * `<home>/runtime.json`: where a running agent listens and where its CA files are, so that
 * `outpost env`, `outpost status` and the tray find it without guessing ports.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runtimeInfo, type RuntimeInfo } from '../../shared/schema/control.js';

const FILE = 'runtime.json';

/** Writes the runtime file atomically (write + rename: a reader never sees half a file). */
export async function writeRuntimeInfo(home: string, info: RuntimeInfo): Promise<void> {
  const target = path.join(home, FILE);
  const tmp = `${target}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(tmp, target);
}

/** Reads the runtime file of the agent using `home`; null when none is running (or it is stale). */
export async function readRuntimeInfo(home: string): Promise<RuntimeInfo | null> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(home, FILE), 'utf8'));
  } catch {
    return null;
  }
  const parsed = runtimeInfo.safeParse(raw);
  if (!parsed.success) return null;
  try {
    process.kill(parsed.data.pid, 0); // signal 0: only asks whether the process exists
  } catch {
    return null;
  }
  return parsed.data;
}

/** Removes the runtime file on a clean stop. */
export async function removeRuntimeInfo(home: string): Promise<void> {
  await fs.rm(path.join(home, FILE), { force: true });
}
