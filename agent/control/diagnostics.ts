/**
 * The tray's diagnostics: `GET /v1/diagnostics` runs `outpost doctor`'s checks against this running
 * agent (its own status and keychain, so nothing is opened twice), and `POST /v1/diagnostics/export`
 * writes a zip a person can send to IT: status, checks, recent activity and the settings in force,
 * every part scrubbed of credentials (the known secret-shaped fields dropped, then every text run
 * through the secrets detector). The zip is made with fflate and kept under `<home>/diagnostics/`,
 * readable by this user only.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { isSecretName, scrubSecrets } from '../../shared/core/guardrails/scrub.js';
import type { DiagnosticsExport } from '../../shared/schema/control.js';

/** `text` with every secret the detector finds replaced by its marker. */
export const scrubText = scrubSecrets;

/** A JSON document with secret-named fields dropped and secret-shaped text replaced, pretty-printed. */
export function scrubJson(value: unknown): string {
  const text = JSON.stringify(value, (k, v: unknown) => (isSecretName(k) && v !== null && v !== undefined ? '[removed]' : v), 2);
  return scrubText(text ?? 'null');
}

/** Writes the diagnostics zip with `parts` (name → JSON value) and answers where it is. */
export async function exportDiagnostics(home: string, parts: Readonly<Record<string, unknown>>, now = new Date()): Promise<DiagnosticsExport> {
  const dir = path.join(home, 'diagnostics');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Record<string, Uint8Array> = {};
  for (const [name, value] of Object.entries(parts)) files[`${name}.json`] = strToU8(scrubJson(value));
  files['README.txt'] = strToU8(
    `Outpost diagnostics, made ${now.toISOString()}.\nstatus.json: the agent's state; diagnostics.json: every self-check and its fix;\nactivity.json: recent requests (no prompts, answers or keys); settings.json: the configuration in force.\nCredentials were removed before this file was written.\n`,
  );
  const zip = zipSync(files, { level: 6 });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const file = path.join(dir, `outpost-diagnostics-${stamp}.zip`);
  await fs.writeFile(file, zip, { mode: 0o600 });
  return { file, bytes: zip.length, entries: Object.keys(files).sort() };
}
