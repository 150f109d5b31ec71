/**
 * Parsers of the MCP config formats, one per format (a registry, selected by the locations table).
 * Each takes the file's text and returns the servers it declares; a file that is not what its
 * format says throws, and the scanner reports it. Values that may be secrets never leave here:
 * environment variables and headers by name only, arguments and URLs through the secrets detector.
 */
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import type { McpServer } from '../../../shared/schema/inventory.js';
import { isSecretName, scrubSecrets } from '../../../shared/core/guardrails/scrub.js';
import type { McpFormat } from './locations.js';

/** What a parser knows about where the text came from. */
export interface ParseContext {
  readonly client: string;
  readonly scope: string;
  readonly file: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const clean = scrubSecrets;

/** A URL with its credentials, query values and path secrets redacted; its host kept for policy. */
function cleanUrl(raw: string): { url: string; host: string | null } {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '[REDACTED]');
    return { url: clean(u.toString()), host: u.hostname.toLowerCase() };
  } catch {
    return { url: clean(raw), host: null };
  }
}

/** Flags whose next argument is a credential (`--api-key X`, `--token X`). */

/** A command-line flag whose value is a secret by its name (`--api-key`, `-token`). */
const isSecretFlag = (arg: string): boolean => /^--?[\w-]+$/.test(arg) && isSecretName(arg.replace(/^--?/, ''));

/** Arguments with credentials redacted: URLs lose user info and query values, a secret flag's value goes, and the detector runs over the rest. */
export function cleanArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (i > 0 && isSecretFlag(args[i - 1] as string) && !arg.startsWith('-')) return '[REDACTED]';
    const eq = /^(--?[\w-]+)=(.*)$/.exec(arg);
    if (eq !== null && isSecretFlag(eq[1] as string)) return `${eq[1] as string}=[REDACTED]`;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return cleanUrl(arg).url;
    return clean(arg);
  });
}

/** One server entry in any of the JSON shapes (`command`/`args`/`env`, or `url`/`serverUrl`/`httpUrl` with `headers`). */
export function serverFromEntry(name: string, entry: unknown, ctx: ParseContext): McpServer {
  if (!isObject(entry)) throw new Error(`server "${name}" is not an object`);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const names = (v: unknown): string[] => (isObject(v) ? Object.keys(v) : []);
  const rawUrl = [entry.url, entry.serverUrl, entry.httpUrl].find((v): v is string => typeof v === 'string') ?? null;
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : typeof entry.transport === 'string' ? entry.transport.toLowerCase() : null;
  const remote = rawUrl === null ? null : cleanUrl(rawUrl);
  const transport = rawUrl === null ? 'stdio' : type === 'sse' ? 'sse' : 'http';
  if (rawUrl === null && typeof entry.command !== 'string') throw new Error(`server "${name}" has neither a command nor a URL`);
  return {
    name,
    client: ctx.client,
    scope: ctx.scope,
    file: ctx.file,
    transport,
    command: typeof entry.command === 'string' ? clean(entry.command) : null,
    args: cleanArgs(strings(entry.args)),
    url: remote?.url ?? null,
    host: remote?.host ?? null,
    envNames: [
      ...names(entry.env),
      ...names(entry.headers),
      ...names(entry.http_headers),
      ...names(entry.env_http_headers),
      ...(typeof entry.bearer_token_env_var === 'string' ? [entry.bearer_token_env_var] : []),
    ].sort(),
    disabled: entry.disabled === true || entry.enabled === false,
  };
}

function serversOf(map: unknown, ctx: ParseContext, key: string): McpServer[] {
  if (map === undefined) return [];
  if (!isObject(map)) throw new Error(`"${key}" is not an object`);
  return Object.entries(map).map(([name, entry]) => serverFromEntry(name, entry, ctx));
}

/** JSON with comments and trailing commas (VS Code, Cursor and Gemini CLI accept them); errors with their offset. */
function parseJsonText(text: string): Json {
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true });
  if (errors.length > 0) throw new Error(`not valid JSON: ${printParseErrorCode(errors[0]!.error)} at offset ${errors[0]!.offset}`);
  if (!isObject(value)) throw new Error('not a JSON object');
  return value;
}

/** The parsers, by format. Claude Code's file also names project folders, which the scanner visits. */
export const MCP_PARSERS: Readonly<Record<McpFormat, (text: string, ctx: ParseContext) => { servers: McpServer[]; projects: string[] }>> = {
  'mcp-servers-json': (text, ctx) => ({ servers: serversOf(parseJsonText(text).mcpServers, ctx, 'mcpServers'), projects: [] }),
  'vscode-json': (text, ctx) => ({ servers: serversOf(parseJsonText(text).servers, ctx, 'servers'), projects: [] }),
  'claude-code-json': (text, ctx) => {
    const doc = parseJsonText(text);
    const servers = serversOf(doc.mcpServers, ctx, 'mcpServers');
    const projects = isObject(doc.projects) ? doc.projects : {};
    for (const [folder, project] of Object.entries(projects)) {
      if (isObject(project)) servers.push(...serversOf(project.mcpServers, { ...ctx, scope: `project:${folder}` }, `projects["${folder}"].mcpServers`));
    }
    return { servers, projects: Object.keys(projects) };
  },
  'codex-toml': (text, ctx) => {
    let doc: Json;
    try {
      doc = parseToml(text) as Json;
    } catch (err) {
      throw new Error(`not valid TOML: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err });
    }
    return { servers: serversOf(doc.mcp_servers, ctx, 'mcp_servers'), projects: [] };
  },
};
