/**
 * A route table you can read in one screen: method, path pattern (`:name` segments), handler. The
 * router answers 404 and 405 itself, and turns any thrown `ApiHttpError` into its JSON answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiHttpError } from './errors.js';
import { sendError } from './io.js';

/** What a handler receives; `locals` is what the server learnt before routing (the admin API's caller). */
export interface RouteContext<L = undefined> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly locals: L;
}

/** One route. */
export interface Route<L = undefined> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly handle: (ctx: RouteContext<L>) => Promise<void>;
}

/** Runs before the matched route's handler; throws an `ApiHttpError` to refuse (the admin API's roles). */
export type RouteGuard<L> = (route: Route<L>, locals: L) => void;

interface Compiled<L> {
  readonly route: Route<L>;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

/** Matches requests against a route table. */
export class Router<L = undefined> {
  private readonly compiled: Compiled<L>[];

  constructor(
    routes: readonly Route<L>[],
    private readonly guard: RouteGuard<L> | null = null,
  ) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.replace(/:([a-zA-Z]+)/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { route, pattern: new RegExp(`^${source}$`), names };
    });
  }

  /** True when some route's path matches (whatever its method). */
  handles(pathname: string): boolean {
    return this.compiled.some((c) => c.pattern.test(pathname));
  }

  /** Runs the matching route; answers 404/405 and errors itself. */
  async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, locals: L): Promise<void> {
    try {
      let pathMatched = false;
      for (const c of this.compiled) {
        const m = c.pattern.exec(url.pathname);
        if (m === null) continue;
        pathMatched = true;
        if (c.route.method !== req.method) continue;
        const params = Object.fromEntries(c.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
        this.guard?.(c.route, locals);
        await c.route.handle({ req, res, params, query: url.searchParams, locals });
        return;
      }
      throw pathMatched ? new ApiHttpError(405, 'method_not_allowed', `${req.method ?? ''} is not allowed on ${url.pathname}`) : new ApiHttpError(404, 'not_found', `no such endpoint: ${url.pathname}`);
    } catch (err) {
      sendError(res, err);
    }
  }
}
