/**
 * AI apps seen in traffic (issue 14.3): each intercepted request names its app by its User-Agent
 * (the catalog's `userAgents`) or, when that says nothing, by the process that opened the
 * connection (its executable's file name among the catalog's `binaries`, or an app bundle on its
 * path). The agent keeps one entry per catalog app, so the list is bounded by the catalog, and
 * learns of a new one the moment it first speaks: that is when the inventory goes to the gateway
 * again ("pending: allow" means allowed and reported).
 */
import type { AiApp } from '../../../shared/schema/inventory.js';
import { AI_APPS, appForUserAgent, type CatalogApp } from './apps.js';

/** What a request says about who sent it (an audit record's `app` and `process`). */
export interface TrafficSource {
  readonly userAgent: string | null;
  readonly process?: { readonly exe: string; readonly name: string } | null;
}

/** The catalog app a process is, by its executable: a catalog binary's name, or inside a catalog bundle (macOS). */
export function appForExecutable(exe: string): CatalogApp | undefined {
  // Either separator: a Windows path is read the same on any OS (the adapters' parsers run everywhere).
  const name = (exe.split(/[\\/]/).at(-1) ?? '').replace(/\.exe$/i, '').toLowerCase();
  return AI_APPS.find((a) => a.binaries?.includes(name) === true || a.bundles?.some((b) => exe.includes(`/${b}/`)) === true);
}

/** The version a User-Agent gives its product (`claude-cli/2.0.14 …` → `2.0.14`), or null. */
function userAgentVersion(app: CatalogApp, userAgent: string): string | null {
  const at = app.userAgents === undefined ? -1 : userAgent.search(app.userAgents);
  return at === -1 ? null : (/\/([\w.-]+)/.exec(userAgent.slice(at))?.[1] ?? null);
}

/** The inventory entry for traffic from `source`, or null when it is no app the catalog knows. */
export function trafficApp(source: TrafficSource): AiApp | null {
  const byAgent = source.userAgent === null ? undefined : appForUserAgent(source.userAgent);
  if (byAgent !== undefined && source.userAgent !== null) {
    return { id: byAgent.id, name: byAgent.name, source: 'traffic', location: source.userAgent, version: userAgentVersion(byAgent, source.userAgent) };
  }
  const exe = source.process?.exe;
  const byProcess = exe === undefined ? undefined : appForExecutable(exe);
  return byProcess === undefined || exe === undefined ? null : { id: byProcess.id, name: byProcess.name, source: 'traffic', location: exe, version: null };
}

/** The apps seen in traffic so far, one per catalog app (the latest sighting's location). */
export class SeenApps {
  private readonly apps = new Map<string, AiApp>();

  /** Notes one request's source; true when it is an AI app not seen before. */
  note(source: TrafficSource): boolean {
    const app = trafficApp(source);
    if (app === null) return false;
    const first = !this.apps.has(app.id);
    this.apps.set(app.id, app);
    return first;
  }

  /** Adds apps already known to be seen (a scan's traffic entries); true when any was new. */
  add(apps: readonly AiApp[]): boolean {
    let added = false;
    for (const app of apps) {
      if (app.source !== 'traffic' || this.apps.has(app.id)) continue;
      this.apps.set(app.id, app);
      added = true;
    }
    return added;
  }

  /** The list, in the order first seen. */
  list(): AiApp[] {
    return [...this.apps.values()];
  }
}
