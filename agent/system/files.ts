/** Writing the agent's files atomically, so a reader never sees half a certificate or document (http-mitm-proxy #239). */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Writes `text` to `file` through a temporary file and a rename. */
export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, text, { mode });
  await fs.rename(tmp, file);
}

/** The file's text, or null when it does not exist. */
export async function readFileOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
