/**
 * The control API: HTTP on loopback only, bearer token from `<home>/control.token`. Routes are a
 * table you can read in one screen; each handler gets what it needs injected by the agent.
 */
import http from 'node:http';
import type { z } from 'zod';
import type { AddressInfo } from 'node:net';
import { activityQuery, pauseRequest, virtualKeySelection, type PauseRequest, type ActivityPage, type ActivityQuery, type AgentStatus, type BudgetsView, type CaRotation, type DiagnosticsExport, type DoctorReport } from '../../shared/schema/control.js';
import { authorized } from './token.js';
import type { ControlEvents } from './events.js';
import { PauseError } from './pause.js';
import type { OutpostError } from '../../shared/errors.js';
import { KeySelectionError } from './key-selection.js';

/** Request bodies are a few bytes; anything larger is refused unread. */
const MAX_BODY_BYTES = 16 * 1024;

/** The request's JSON body; undefined when it is missing, too large or not JSON. */
async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** What the control API reads from the running agent. */
export interface ControlSources {
  status(): AgentStatus | Promise<AgentStatus>;
  /** `outpost ca rotate` against the running agent: it switches keys with traffic flowing (absent: no route). */
  rotateCa?(): Promise<CaRotation>;
  /** `GET /v1/activity`: a page of the latest requests from the audit store (absent: no route). */
  activity?(query: ActivityQuery): ActivityPage;
  /** `GET /v1/budgets`: this user's budgets and the virtual keys they may pick (absent: no route). */
  budgets?(): BudgetsView;
  /** `GET /v1/events`: server-sent events (absent: no route). */
  events?: ControlEvents;
  /** `GET /v1/diagnostics`: every self-check with its fix (absent: no route). */
  diagnostics?(): Promise<DoctorReport>;
  /** `POST /v1/diagnostics/export`: writes the scrubbed zip. */
  exportDiagnostics?(): Promise<DiagnosticsExport>;
  /** `POST /v1/pause` (throws `PauseError` when policy forbids) and `POST /v1/resume` (absent: no routes). */
  pause?(request: PauseRequest): { until: string; by: string };
  resume?(): void;
  /** `POST /v1/virtual-key`: picks a key (null: none); throws `KeySelectionError` for one this user may not pick. */
  selectKey?(id: string | null): string | null;
  /** Prometheus text exposition (`GET /metrics`). */
  metrics(): Promise<string>;
}

/** A running control API. */
export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * A POST route that changes something: its JSON body checked by `schema` (400 naming the field),
 * then `act`; a refusal of type `refused` (policy or permissions) is 403 with its code and words.
 */
function commandRoute<S extends z.ZodType>(schema: S, expected: string, refused: new (...args: never[]) => OutpostError<string>, act: (body: z.infer<S>) => unknown): Handler {
  return async (req, res) => {
    const body = await readJson(req);
    const parsed = body === undefined ? null : schema.safeParse(body);
    if (parsed === null || !parsed.success) {
      const issue = parsed?.error.issues[0];
      return json(res, 400, { error: { code: 'invalid_request', message: issue === undefined ? expected : `${issue.path.join('.') || 'body'}: ${issue.message}` } });
    }
    try {
      json(res, 200, act(parsed.data));
    } catch (err) {
      if (err instanceof refused) return json(res, 403, { error: { code: err.code, message: err.message } });
      throw err;
    }
  };
}

/** Starts the control API on `host:port` (loopback; the config schema refuses anything else). */
export async function startControlServer(host: string, port: number, token: string, sources: ControlSources): Promise<ControlServer> {
  const routes: Record<string, Handler> = {
    'GET /v1/status': async (_req, res) => json(res, 200, await sources.status()),
    'GET /metrics': async (_req, res) => {
      const text = await sources.metrics();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
    },
  };
  const { rotateCa, activity, budgets, events, diagnostics, exportDiagnostics, pause, resume, selectKey } = sources;
  if (selectKey) routes['POST /v1/virtual-key'] = commandRoute(virtualKeySelection, 'expected a JSON body {"id": "KEY_ID"} or {"id": null}', KeySelectionError, (body) => ({ selected: selectKey(body.id) }));
  if (pause) routes['POST /v1/pause'] = commandRoute(pauseRequest, 'expected a JSON body {"minutes": N}', PauseError, (body) => ({ paused: pause(body) }));
  if (resume)
    routes['POST /v1/resume'] = (_req, res) => {
      resume();
      json(res, 200, { paused: null });
    };
  if (diagnostics) routes['GET /v1/diagnostics'] = async (_req, res) => json(res, 200, await diagnostics());
  if (exportDiagnostics) routes['POST /v1/diagnostics/export'] = async (_req, res) => json(res, 201, await exportDiagnostics());
  if (events) routes['GET /v1/events'] = (req, res) => events.open(req, res);
  if (budgets) routes['GET /v1/budgets'] = (_req, res) => json(res, 200, budgets());
  if (activity)
    routes['GET /v1/activity'] = (req, res) => {
      const params = new URL(req.url ?? '/', 'http://control').searchParams;
      const query = activityQuery.safeParse(Object.fromEntries(params));
      if (!query.success) {
        const issue = query.error.issues[0];
        return json(res, 400, { error: { code: 'invalid_request', message: `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}` } });
      }
      json(res, 200, activity(query.data));
    };
  if (rotateCa) routes['POST /v1/ca/rotate'] = async (_req, res) => json(res, 200, await rotateCa());
  const server = http.createServer((req, res) => {
    const route = routes[`${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`];
    if (!authorized(req.headers.authorization, token)) return json(res, 401, { error: { code: 'unauthorized', message: 'missing or wrong bearer token (see <home>/control.token)' } });
    if (route === undefined) return json(res, 404, { error: { code: 'not_found', message: `no route ${req.method ?? ''} ${req.url ?? ''}` } });
    Promise.resolve(route(req, res)).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: (err as Error).message } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
