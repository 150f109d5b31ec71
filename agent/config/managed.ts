/**
 * The managed configuration (issue 14.4): a file IT pushes by MDM, in a folder only administrators
 * can write, that overrides the user's config field by field. A field the managed file sets cannot
 * be changed by the user's file, `--config`, or `OUTPOST_HOME`; fields it leaves out stay the user's.
 * It may carry the gateway URL and an enrollment token for the agent's first start.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { agentConfig } from '../../shared/schema/config.js';
import { parseDocument } from '../../shared/schema/validate.js';
import { resolvePath } from '../../shared/config/paths.js';

/** Where each OS keeps the managed file (folders writable by administrators only). */
export const MANAGED_CONFIG_PATHS: Readonly<Partial<Record<NodeJS.Platform, (env: NodeJS.ProcessEnv) => string>>> = {
  darwin: () => '/Library/Application Support/Outpost/config.json',
  win32: (env) => path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'Outpost', 'config.json'),
  linux: () => '/etc/outpost/config.json',
};

/** Config fields that hold paths: made absolute against the folder of the file that set them, before merging. */
const PATH_FIELDS: ReadonlyArray<readonly string[]> = [['home'], ['policyFile'], ['upstream', 'caFile'], ['gateway', 'caFile']];

/** Objects that are one value (a map), replaced whole rather than merged key by key. */
const WHOLE_OBJECTS: ReadonlySet<string> = new Set(['upstream.resolve']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The managed file in force. `OUTPOST_MANAGED_CONFIG` names another file only while the OS's own
 * managed file does not exist (tests, trials): with one in place it cannot be pointed elsewhere.
 */
export async function managedConfigPath(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  paths: typeof MANAGED_CONFIG_PATHS = MANAGED_CONFIG_PATHS,
): Promise<string | null> {
  const official = paths[platform]?.(env) ?? null;
  if (official !== null && (await fs.access(official).then(() => true, () => false))) return official;
  return env.OUTPOST_MANAGED_CONFIG ? path.resolve(env.OUTPOST_MANAGED_CONFIG) : official;
}

/** Reads a config document (user or managed): parsed JSON, validated alone, its path fields made absolute. */
export async function readConfigDocument(file: string, label: string): Promise<Json | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${label} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    // A byte order mark (Windows tools write one) is not JSON but is no reason to refuse IT's file.
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new Error(`${label} ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  parseDocument(agentConfig, raw, `${label} ${file}`);
  return absolutePaths(raw as Json, path.dirname(path.resolve(file)));
}

function absolutePaths(doc: Json, base: string): Json {
  const out = structuredClone(doc);
  for (const field of PATH_FIELDS) {
    let parent: unknown = out;
    for (const key of field.slice(0, -1)) parent = isObject(parent) ? parent[key] : undefined;
    const last = field.at(-1) as string;
    if (isObject(parent) && typeof parent[last] === 'string') parent[last] = resolvePath(parent[last], base);
  }
  return out;
}

/** `user` with every field `managed` sets replaced by the managed value (objects merged key by key). */
export function overlay(user: Json, managed: Json, prefix = ''): Json {
  const out: Json = { ...user };
  for (const [key, value] of Object.entries(managed)) {
    const dotted = prefix === '' ? key : `${prefix}.${key}`;
    out[key] = isObject(value) && isObject(out[key]) && !WHOLE_OBJECTS.has(dotted) ? overlay(out[key], value, dotted) : value;
  }
  return out;
}

/** The dotted names of the fields `managed` sets (for status and errors). */
export function managedFields(managed: Json, prefix = ''): string[] {
  return Object.entries(managed).flatMap(([key, value]) => {
    const dotted = prefix === '' ? key : `${prefix}.${key}`;
    return isObject(value) && !WHOLE_OBJECTS.has(dotted) ? managedFields(value, dotted) : [dotted];
  });
}
