/**
 * Who this agent speaks for when a request carries no virtual key: the enrolled user and device.
 * The device id is random, created once per home folder (`device.json`), so it survives restarts and
 * says nothing about the hardware; the user is the OS account until enrollment names one.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './files.js';

export interface Identity {
  /** `device:<id>` in principal form is built from this. */
  readonly device: string;
  /** The user's email after enrollment, else `<os user>@<hostname>`. */
  readonly user: string;
  readonly hostname: string;
}

const deviceFile = z.object({ device: z.string().min(8), user: z.string().min(1).optional() });

/** Names the person this agent speaks for (single sign-on enrollment): kept in `<home>/device.json`. */
export async function setIdentityUser(home: string, user: string): Promise<void> {
  const current = await loadIdentity(home);
  await writeFileAtomic(path.join(home, 'device.json'), `${JSON.stringify({ device: current.device, user }, null, 2)}\n`, 0o600);
}

/** Reads the identity from `<home>/device.json`, creating the device id on first start. */
export async function loadIdentity(home: string): Promise<Identity> {
  const file = path.join(home, 'device.json');
  const hostname = os.hostname();
  const fallbackUser = `${os.userInfo().username}@${hostname}`;
  try {
    const saved = deviceFile.parse(JSON.parse(await fs.readFile(file, 'utf8')));
    return { device: saved.device, user: saved.user ?? fallbackUser, hostname };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is damaged: ${(err as Error).message}`, { cause: err });
  }
  const device = `dev-${crypto.randomUUID()}`;
  await fs.writeFile(file, `${JSON.stringify({ device }, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return loadIdentity(home);
}
