/**
 * Small real filesystems for the unwritable-store tests: a tmpfs of a few hundred KiB mounted on a
 * temporary folder (root only: `chmod` does not stop root, a read-only or full filesystem does).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** True when this process may mount filesystems (root on Linux). */
export const canMount = process.platform === 'linux' && process.getuid?.() === 0;

/** A mounted tmpfs; `unmount` removes it and its folder. */
export interface SmallFs {
  readonly dir: string;
  remount(mode: 'ro' | 'rw'): void;
  /** Writes a filler file until the filesystem refuses (ENOSPC). */
  fill(): void;
  /** Deletes the filler. */
  free(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeKiB` on a new folder, read-only when `readOnly`. */
export function mountSmallFs(sizeKiB: number, readOnly = false): SmallFs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-smallfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700${readOnly ? ',ro' : ''}`, 'tmpfs', dir]);
  const filler = path.join(dir, 'filler');
  return {
    dir,
    remount: (mode) => execFileSync('mount', ['-o', `remount,${mode}`, dir]),
    fill: () => {
      const fd = fs.openSync(filler, 'a');
      const block = Buffer.alloc(4096, 1);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        fs.closeSync(fd);
      }
    },
    free: () => fs.rmSync(filler, { force: true }),
    unmount: () => {
      execFileSync('umount', [dir]);
      fs.rmdirSync(dir);
    },
  };
}
