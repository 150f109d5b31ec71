/** The bridge over HTTP to a same-origin page server (`./api/…` → the agent's control API). */
import type { ActivityPage, AgentStatus, BudgetsView, ControlEvent, DiagnosticsExport, DoctorReport } from '../../shared/schema/control.js';
import type { OutpostBridge } from './bridge.js';

async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`./api${route}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(json.error?.message ?? `the agent answered ${res.status}`);
  return json;
}

export const httpBridge: OutpostBridge = {
  status: () => call<AgentStatus>('GET', '/v1/status'),
  activity: (limit) => call<ActivityPage>('GET', `/v1/activity?limit=${limit}`),
  budgets: () => call<BudgetsView>('GET', '/v1/budgets'),
  pause: async (minutes) => {
    await call('POST', '/v1/pause', { minutes });
  },
  resume: async () => {
    await call('POST', '/v1/resume', {});
  },
  selectKey: async (id) => {
    await call('POST', '/v1/virtual-key', { id });
  },
  diagnostics: () => call<DoctorReport>('GET', '/v1/diagnostics'),
  exportDiagnostics: () => call<DiagnosticsExport>('POST', '/v1/diagnostics/export', {}),
  onEvent(listener) {
    const source = new EventSource('./api/v1/events');
    for (const type of ['status', 'decision', 'budget'] as const) {
      source.addEventListener(type, (e) => listener(JSON.parse((e as MessageEvent<string>).data) as ControlEvent));
    }
  },
};
