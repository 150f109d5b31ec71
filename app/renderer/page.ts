/**
 * The tray window's page: status, pause, budgets as bars, recent activity with, for each blocked or
 * cleaned request, the rule, why and what to do. Live over the agent's event stream. Plain DOM (no
 * framework, no inline script or style: the Content-Security-Policy forbids both).
 */
import type { ActivityItem, BudgetsView } from '../../shared/schema/control.js';
import type { OutpostBridge } from './bridge.js';
import { httpBridge } from './http-bridge.js';
import { companyLink } from '../logic/company-link.js';
import { budgetBar, checkLine, decisionLabel, headline, money, requestLine } from './view.js';

declare global {
  interface Window {
    /** Provided by the Electron preload script. */
    outpost?: OutpostBridge;
  }
}

const bridge: OutpostBridge = window.outpost ?? httpBridge;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`missing #${id}`);
  return node;
}

async function renderStatus(): Promise<void> {
  const status = await bridge.status();
  const h = headline(status);
  const header = byId('status');
  header.className = `status status-${h.tone}`;
  byId('status-title').textContent = h.title;
  byId('status-detail').textContent = h.detail;
  byId('policy').textContent = `Policy “${status.policy.name}”, version ${status.policy.version}`;
  const link = companyLink(status.gateway);
  const gateway = byId('gateway');
  gateway.hidden = false;
  gateway.textContent = link.text;
  gateway.className = `small gateway-${link.tone}`;
  const pause = byId('pause-controls');
  pause.replaceChildren();
  if (status.paused) {
    const resume = el('button', { type: 'button', class: 'primary' }, 'Resume protection');
    resume.addEventListener('click', () => void bridge.resume().then(renderStatus, showError));
    pause.append(resume);
  } else {
    for (const [minutes, label] of [
      [15, 'Pause for 15 minutes'],
      [60, 'Pause for 1 hour'],
    ] as const) {
      const b = el('button', { type: 'button' }, label);
      b.addEventListener('click', () => void bridge.pause(minutes).then(renderStatus, showError));
      pause.append(b);
    }
  }
}

function renderKeyPicker(view: BudgetsView): void {
  const picker = byId('key-picker');
  const keys = view.virtualKeys.filter((k) => !k.revoked);
  picker.hidden = keys.length === 0;
  const select = byId('key-select') as HTMLSelectElement;
  if (document.activeElement === select) return; // do not move the choice under the user's hands
  select.replaceChildren(el('option', { value: '' }, 'None: apps use their own keys'), ...keys.map((k) => el('option', { value: k.id }, `${k.id}${k.owner === 'org' ? ' (company)' : k.owner.startsWith('team:') ? ` (team ${k.owner.slice(5)})` : ''}`)));
  select.value = view.selected ?? '';
}

function renderBudgets(view: BudgetsView): void {
  renderKeyPicker(view);
  const list = byId('budgets');
  list.replaceChildren();
  const seen = new Set<string>();
  for (const p of view.principals) {
    for (const b of p.budgets) {
      if (seen.has(b.id)) continue;
      seen.add(b.id);
      const bar = budgetBar(b);
      const meter = el('div', { class: `bar${bar.percent >= 100 ? ' full' : bar.percent >= 80 ? ' high' : ''}`, role: 'progressbar', 'aria-label': bar.label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(bar.percent), 'data-budget': b.id });
      const fill = el('div', { class: 'fill' });
      fill.style.width = `${bar.percent}%`;
      meter.append(fill);
      list.append(el('li', {}, el('div', { class: 'budget-head' }, el('span', { class: 'budget-name' }, bar.label), el('span', { class: 'muted' }, bar.detail)), meter));
    }
  }
  if (seen.size === 0) list.append(el('li', { class: 'muted' }, 'No spending limits apply to you.'));
}

function activityRow(item: Pick<ActivityItem, 'decision' | 'app' | 'host' | 'provider' | 'model' | 'rules' | 'advice' | 'costUsd' | 'time'>): HTMLElement {
  const when = new Date(item.time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const row = el('li', { class: `activity activity-${item.decision}` });
  row.append(
    el('div', { class: 'activity-head' }, el('span', { class: `badge badge-${item.decision}` }, decisionLabel(item.decision)), el('span', { class: 'activity-what' }, requestLine(item)), el('time', { class: 'muted', datetime: item.time }, when)),
  );
  if (item.decision !== 'allow') {
    const rule = item.rules.find((r) => r.action === 'block' || r.action === 'redact' || r.action === 'deny' || r.action === 'limit') ?? item.rules[0];
    if (rule !== undefined) row.append(el('p', { class: 'why' }, el('strong', {}, 'Why: '), `${rule.explanation} (rule “${rule.id}”)`));
    if (item.advice !== null) row.append(el('p', { class: 'advice' }, el('strong', {}, 'What you can do: '), item.advice));
  } else if (item.costUsd !== null) {
    row.append(el('p', { class: 'muted small' }, `Cost ${money(item.costUsd)}`));
  }
  return row;
}

async function renderActivity(): Promise<void> {
  const page = await bridge.activity(30);
  const list = byId('activity');
  list.replaceChildren(...page.items.map(activityRow));
  if (page.items.length === 0) list.append(el('li', { class: 'muted' }, 'No AI requests yet.'));
}

async function runChecks(): Promise<void> {
  const button = byId('run-checks') as HTMLButtonElement;
  button.disabled = true;
  button.textContent = 'Checking…';
  try {
    const report = await bridge.diagnostics();
    const list = byId('checks');
    list.replaceChildren(
      ...report.checks.map((c) => {
        const line = checkLine(c);
        const row = el('li', { class: `check check-${c.outcome}` }, el('span', { class: 'check-mark', 'aria-hidden': 'true' }, line.mark), el('span', {}, el('span', { class: 'visually-hidden' }, `${line.label}: `), line.text));
        if (line.fix !== null) row.append(el('p', { class: 'fix small' }, 'To fix it, run: ', el('code', {}, line.fix)));
        return row;
      }),
    );
  } finally {
    button.disabled = false;
    button.textContent = 'Run a check-up again';
  }
}

async function exportChecks(): Promise<void> {
  const saved = await bridge.exportDiagnostics();
  byId('export-result').textContent = `Report saved: ${saved.file}. Send this file to your IT team; it holds no passwords or keys.`;
}

function showError(err: unknown): void {
  const box = byId('error');
  box.textContent = `Something went wrong: ${(err as Error).message}`;
  box.hidden = false;
}

async function refresh(): Promise<void> {
  await Promise.all([renderStatus(), bridge.budgets().then(renderBudgets), renderActivity()]);
}

(byId('key-select') as HTMLSelectElement).addEventListener('change', (e) => {
  const id = (e.target as HTMLSelectElement).value;
  void bridge
    .selectKey(id === '' ? null : id)
    .then(() => bridge.budgets().then(renderBudgets))
    .catch(showError);
});
byId('run-checks').addEventListener('click', () => void runChecks().catch(showError));
byId('export-checks').addEventListener('click', () => void exportChecks().catch(showError));

bridge.onEvent((event) => {
  if (event.type === 'status') void renderStatus().catch(showError);
  else void Promise.all([renderActivity(), bridge.budgets().then(renderBudgets)]).catch(showError);
});
void refresh().then(() => document.body.setAttribute('data-ready', 'true'), showError);
// Plain allows send no event (they are most of the traffic): spending and activity are re-read
// every few seconds while the window is visible.
setInterval(() => {
  if (document.visibilityState === 'visible') void Promise.all([renderActivity(), bridge.budgets().then(renderBudgets)]).catch(showError);
}, 4000);
