/**
 * The console's pages: overview, devices, audit, policy, inventory, spend. Each renders into the
 * main element from the admin API (same origin, session cookie); what the signed-in roles cannot do
 * is not offered (the API refuses it anyway).
 */
import { Chart, ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip } from 'chart.js';
import { policy as policySchema } from '../shared/schema/policy.js';
import { problemsOf } from '../shared/schema/validate.js';
import { providerName } from '../shared/providers/names.js';
import type { ConsoleSession } from '../shared/schema/console.js';
import { api } from './api.js';
import { ago, button, el, money, notify, table } from './dom.js';
import { jsonDiff } from './json-diff.js';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip);

/** What every page gets. */
export interface PageContext {
  readonly session: ConsoleSession;
  readonly main: HTMLElement;
}

interface Device {
  id: string;
  hostname: string;
  osUser: string;
  /** The person who signed the device in through single sign-on (`user:<email>`), if any. */
  user: string | null;
  os: string;
  arch: string;
  agentVersion: string;
  team: string | null;
  enrolledAt: string;
  lastSeen: string | null;
  caMode: string | null;
  policyRejected: string | null;
  chainProblem: string | null;
  online: boolean;
  policyVersion: number | null;
  caTrusted: boolean | null;
  paused: boolean | null;
  degraded: string[];
  revoked: boolean;
}
interface AuditRow {
  deviceId: string;
  seq: number;
  time: string;
  user: string;
  app: string | null;
  host: string;
  provider: string | null;
  model: string | null;
  principal: string | null;
  decision: string;
  rules: Array<{ id: string; explanation: string }>;
  costUsd: number | null;
}
interface Budget {
  id: string;
  period: string;
  limitUsd: number;
  spentUsd: number;
}
interface SpendRow {
  key: string;
  requests: number;
  costUsd: number;
}

const isAdmin = (s: ConsoleSession): boolean => s.roles.includes('admin');
const DECISION_WORDS: Readonly<Record<string, string>> = { allow: 'Allowed', redact: 'Cleaned', warn: 'Flagged', block: 'Blocked', error: 'Failed' };
const DECISION_COLORS: Readonly<Record<string, string>> = { allow: '#2da44e', redact: '#0969da', warn: '#bf8700', block: '#cf222e', error: '#6e7781' };

function heading(ctx: PageContext, title: string, lead: string): void {
  ctx.main.replaceChildren(el('h1', {}, title), el('p', { class: 'lead' }, lead));
}

function card(title: string, ...children: Array<Node | string>): HTMLElement {
  return el('section', { class: 'card', 'aria-label': title }, el('h2', {}, title), ...children);
}

function chart(label: string, config: ConstructorParameters<typeof Chart>[1]): HTMLElement {
  const canvas = el('canvas', { role: 'img', 'aria-label': label });
  const box = el('div', { class: 'chart' }, canvas);
  // Drawn once the canvas is in the page (Chart.js measures it).
  queueMicrotask(() => new Chart(canvas, { ...config, options: { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options ?? {}) } }));
  return box;
}

function deviceState(d: Device): { word: string; tone: string } {
  if (d.revoked) return { word: 'Revoked', tone: 'muted' };
  if (!d.online) return { word: 'Offline', tone: 'muted' };
  if (d.paused === true) return { word: 'Paused', tone: 'warn' };
  if (d.degraded.length > 0 || d.caTrusted === false) return { word: 'Needs attention', tone: 'warn' };
  return { word: 'Protected', tone: 'ok' };
}

const PERIOD_WORDS: Readonly<Record<string, string>> = { '1m': 'this minute', '1h': 'this hour', '1d': 'today', '1w': 'this week', '1M': 'this month', '1Y': 'this year' };

/** Each fleet budget: the fleet's spend in its current window against its limit, as a meter. */
function budgetList(budgets: readonly Budget[]): HTMLElement {
  return el(
    'ul',
    { class: 'budgets' },
    ...budgets.map((b) => {
      const id = `budget-${b.id.replace(/[^\w-]/g, '-')}`;
      const share = b.limitUsd === 0 ? 1 : b.spentUsd / b.limitUsd;
      return el(
        'li',
        {},
        el('span', { class: 'budget-name', id }, b.id),
        el('meter', { min: '0', max: String(b.limitUsd), low: String(b.limitUsd * 0.75), high: String(b.limitUsd * 0.9), optimum: '0', value: String(Math.min(b.spentUsd, b.limitUsd)), 'aria-labelledby': id }),
        el('span', { class: 'budget-figures' }, `${money(b.spentUsd)} of ${money(b.limitUsd)} ${PERIOD_WORDS[b.period] ?? b.period} (${Math.round(share * 100)}%)`),
      );
    }),
  );
}

/** Overview: devices, requests and blocks today, spend this month and against each budget, the rules that fired most. */
export async function overview(ctx: PageContext): Promise<void> {
  heading(ctx, 'Overview', 'How your fleet is doing today.');
  const monthStart = `${new Date().toISOString().slice(0, 7)}-01T00:00:00.000Z`;
  const [{ devices }, today, spend, { budgets }] = await Promise.all([
    api<{ devices: Device[] }>('GET', '/admin/v1/devices'),
    api<{ since: string; decisions: Record<string, number>; rules: Array<{ id: string; count: number }> }>('GET', '/admin/v1/overview'),
    api<{ rows: SpendRow[] }>('GET', `/admin/v1/spend?by=principal&since=${encodeURIComponent(monthStart)}`),
    api<{ budgets: Budget[] }>('GET', '/admin/v1/budgets'),
  ]);
  const states = devices.map(deviceState);
  const count = (w: string): number => states.filter((s) => s.word === w).length;
  const requests = Object.values(today.decisions).reduce((a, b) => a + b, 0);
  const stats = el(
    'div',
    { class: 'stats' },
    ...[
      ['Devices protected', String(count('Protected'))],
      ['Need attention', String(count('Needs attention') + count('Paused'))],
      ['Offline', String(count('Offline'))],
      ['Requests today', requests.toLocaleString('en-US')],
      ['Blocked today', (today.decisions['block'] ?? 0).toLocaleString('en-US')],
      ['Spend this month', money(spend.rows.reduce((a, r) => a + r.costUsd, 0))],
    ].map(([label, value]) => el('div', { class: 'stat' }, el('span', { class: 'stat-value' }, value as string), el('span', { class: 'stat-label' }, label as string))),
  );
  const decisions = Object.keys(today.decisions);
  const top = today.rules.map((r): [string, number] => [r.id, r.count]);
  ctx.main.append(
    stats,
    budgets.length === 0 ? '' : card('Budgets this period', budgetList(budgets)),
    el(
      'div',
      { class: 'grid' },
      card(
        'Requests today by decision',
        requests === 0
          ? el('p', { class: 'muted' }, 'No requests yet today.')
          : chart(`Requests today: ${decisions.map((d) => `${DECISION_WORDS[d] ?? d} ${today.decisions[d]}`).join(', ')}`, {
              type: 'doughnut',
              data: { labels: decisions.map((d) => DECISION_WORDS[d] ?? d), datasets: [{ data: decisions.map((d) => today.decisions[d] ?? 0), backgroundColor: decisions.map((d) => DECISION_COLORS[d] ?? '#999') }] },
            }),
      ),
      card(
        'Rules that fired most today',
        top.length === 0
          ? el('p', { class: 'muted' }, 'No rule fired today.')
          : chart(`Records by rule today: ${top.map(([id, n]) => `${id} ${n}`).join(', ')}`, {
              type: 'bar',
              data: { labels: top.map(([id]) => id), datasets: [{ label: 'Records', data: top.map(([, n]) => n), backgroundColor: '#cf222e' }] },
              options: { indexAxis: 'y', plugins: { legend: { display: false } } },
            }),
      ),
    ),
  );
}

/** Devices: list, state in words, revoke and kill switch. */
export async function devices(ctx: PageContext): Promise<void> {
  heading(ctx, 'Devices', 'Every enrolled computer, who uses it, and whether it is protected.');
  const { devices: list } = await api<{ devices: Device[] }>('GET', '/admin/v1/devices');
  const command = async (scope: object, action: object, done: string): Promise<void> => {
    await api('POST', '/admin/v1/commands', { scope, action });
    notify(done);
    await devices(ctx);
  };
  if (isAdmin(ctx.session)) {
    // The kill switch for everyone or one team (a device has its own buttons in its row).
    const teams = [...new Set(list.map((d) => d.team).filter((t): t is string => t !== null))].sort();
    const target = el('select', { id: 'kill-scope' }, el('option', { value: '' }, 'Everyone'), ...teams.map((t) => el('option', { value: t }, `Team ${t}`)));
    const scope = (): { scope: object; who: string } => (target.value === '' ? { scope: { kind: 'everyone' }, who: 'every device' } : { scope: { kind: 'team', team: target.value }, who: `team ${target.value}` });
    ctx.main.append(
      el(
        'div',
        { class: 'toolbar' },
        el('label', { for: 'kill-scope' }, 'Kill switch for'),
        target,
        button('Pause interception', () => command(scope().scope, { kind: 'kill-switch', mode: 'pause-interception' }, `Interception paused for ${scope().who}.`)),
        button('Block all AI', () => command(scope().scope, { kind: 'kill-switch', mode: 'block-ai' }, `All AI traffic blocked for ${scope().who}.`), { class: 'danger' }),
        button('Lift', () => command(scope().scope, { kind: 'kill-switch', mode: 'off' }, `Kill switch lifted for ${scope().who}.`)),
      ),
    );
  }
  const rows = list.map((d) => {
    const state = deviceState(d);
    const when = (iso: string | null): string => (iso === null ? 'never' : `${new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })} (${ago(iso)})`);
    const facts: Array<[string, string]> = [
      ['User', d.user ?? `${d.osUser} (not signed in)`],
      ['OS user', d.osUser],
      ['OS', `${d.os} ${d.arch}`],
      ['Agent version', d.agentVersion],
      ['Policy version', d.policyRejected === null ? String(d.policyVersion ?? '–') : `${d.policyVersion ?? '–'} (refused a newer one: ${d.policyRejected})`],
      ['CA trusted', `${d.caTrusted === null ? 'unknown' : d.caTrusted ? 'yes' : 'no'}${d.caMode === null ? '' : ` (${d.caMode} CA)`}`],
      ['Team', d.team ?? '–'],
      ['Last seen', d.online ? 'connected now' : when(d.lastSeen)],
      ['Enrolled', when(d.enrolledAt)],
      ['Device id', d.id],
      ...(d.chainProblem === null ? [] : [['Audit chain', d.chainProblem] as [string, string]]),
    ];
    const details = el('details', {}, el('summary', {}, d.hostname), el('dl', {}, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])), d.degraded.length > 0 ? el('div', {}, el('h3', {}, 'Needs attention because'), el('ul', { class: 'reasons' }, ...d.degraded.map((r) => el('li', {}, r)))) : null);
    const actions = isAdmin(ctx.session) && !d.revoked ? el('div', { class: 'actions' }, button('Block AI', () => command({ kind: 'device', deviceId: d.id }, { kind: 'kill-switch', mode: 'block-ai' }, `All AI traffic blocked on ${d.hostname}.`)), button('Revoke', () => command({ kind: 'device', deviceId: d.id }, { kind: 'revoke-device' }, `${d.hostname} revoked.`), { class: 'danger' })) : '';
    return [details, d.user ?? d.osUser, el('span', { class: `pill pill-${state.tone}` }, state.word), d.online ? 'now' : ago(d.lastSeen), actions];
  });
  ctx.main.append(list.length === 0 ? el('p', { class: 'muted' }, 'No devices yet: create an enrollment token and install the agent.') : table('Devices', ['Computer', 'User', 'State', 'Last seen', ''], rows));
}

/** Audit: filters, server-side keyset pages, export of the filtered view. */
export async function audit(ctx: PageContext, params: URLSearchParams): Promise<void> {
  heading(ctx, 'Audit', 'Every AI request your devices made, newest first.');
  const fields: Array<[string, string, string[] | null]> = [
    ['device', 'Device id', null],
    ['user', 'User', null],
    ['principal', 'Virtual key or principal', null],
    ['decision', 'Decision', ['', 'allow', 'redact', 'warn', 'block', 'error']],
    ['app', 'App (as recorded)', null],
    ['rule', 'Rule that fired', null],
    ['provider', 'Provider', null],
    ['model', 'Model', null],
    ['since', 'From (ISO time)', null],
    ['until', 'Until (ISO time)', null],
  ];
  const form = el('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit' });
  for (const [name, label, options] of fields) {
    const id = `f-${name}`;
    const input = options === null ? el('input', { id, name, value: params.get(name) ?? '' }) : el('select', { id, name }, ...options.map((o) => el('option', { value: o, ...(params.get(name) === o ? { selected: '' } : {}) }, o === '' ? 'Any' : (DECISION_WORDS[o] ?? o))));
    form.append(el('div', { class: 'field' }, el('label', { for: id }, label), input));
  }
  form.append(el('div', { class: 'field' }, el('button', { type: 'submit', class: 'primary' }, 'Apply')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v !== '') q.set(k, v);
    location.hash = `#/audit?${q.toString()}`;
  });
  const filter = new URLSearchParams([...params].filter(([k]) => k !== 'cursor'));
  const page = await api<{ records: AuditRow[]; nextCursor: number | null }>('GET', `/admin/v1/audit?${new URLSearchParams([...filter, ['limit', '50'], ...(params.get('cursor') ? [['cursor', params.get('cursor') as string]] : [])]).toString()}`);
  const rows = page.records.map((r) => [
    el('time', { datetime: r.time }, new Date(r.time).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })),
    r.user,
    r.app ?? '–',
    `${r.provider === null ? r.host : providerName(r.provider)}${r.model === null ? '' : ` · ${r.model}`}`,
    el('span', { class: `pill pill-${r.decision}` }, DECISION_WORDS[r.decision] ?? r.decision),
    r.rules.map((x) => x.id).join(', ') || '–',
    money(r.costUsd),
  ]);
  const next = page.nextCursor === null ? null : el('a', { href: `#/audit?${new URLSearchParams([...filter, ['cursor', String(page.nextCursor)]]).toString()}`, class: 'button' }, 'Older records →');
  ctx.main.append(
    form,
    el('p', { class: 'toolbar' }, el('a', { href: `/admin/v1/audit/export?${new URLSearchParams([...filter, ['format', 'csv']]).toString()}`, class: 'button', download: 'outpost-audit.csv' }, 'Export this view (CSV)'), params.get('cursor') ? el('a', { href: `#/audit?${filter.toString()}`, class: 'button' }, '← Newest') : null, next),
    page.records.length === 0 ? el('p', { class: 'muted' }, 'No records match.') : table('Audit records', ['Time', 'User', 'App', 'Service', 'Decision', 'Rules', 'Cost'], rows),
  );
}

/** Policy: the current document in a validating editor, publish, history, rollback. */
export async function policy(ctx: PageContext): Promise<void> {
  heading(ctx, 'Policy', 'The rules every device enforces. Each published version is signed and reaches connected devices within a second.');
  const [current, { versions }] = await Promise.all([
    api<{ version: number; document: unknown; signedAt: string }>('GET', '/admin/v1/policy').catch(() => null),
    api<{ versions: Array<{ version: number; signedAt: string }> }>('GET', '/admin/v1/policy/versions'),
  ]);
  const editor = el('textarea', { id: 'policy-editor', spellcheck: 'false', rows: '24', 'aria-describedby': 'policy-problems' }) as HTMLTextAreaElement;
  editor.value = JSON.stringify(current?.document ?? { version: 1, name: 'Company policy' }, null, 2);
  const problems = el('ul', { id: 'policy-problems', class: 'problems', 'aria-live': 'polite' });
  const check = (): unknown => {
    problems.replaceChildren();
    let doc: unknown;
    try {
      doc = JSON.parse(editor.value);
    } catch (err) {
      problems.append(el('li', {}, `Not valid JSON: ${(err as Error).message}`));
      return null;
    }
    const parsed = policySchema.safeParse(doc);
    if (parsed.success) {
      problems.append(el('li', { class: 'ok' }, 'The policy is valid.'));
      return doc;
    }
    for (const p of problemsOf(parsed.error)) problems.append(el('li', {}, el('code', {}, p.path), ` ${p.message}`));
    return null;
  };
  const canPublish = isAdmin(ctx.session);
  // What the current version changed from the one before it.
  const previous = current === null || current.version <= 1 ? null : await api<{ version: number; document: unknown }>('GET', `/admin/v1/policy/versions/${current.version - 1}`).catch(() => null);
  const changes = previous === null || current === null ? [] : jsonDiff(previous.document, current.document).filter((c) => c.path !== 'version');
  const show = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v).slice(0, 160));
  const diffCard =
    previous === null
      ? null
      : card(
          `Changes from version ${previous.version}`,
          changes.length === 0
            ? el('p', { class: 'muted' }, 'No change but the version number.')
            : el('ul', { class: 'diff' }, ...changes.map((c) => el('li', { class: `diff-${c.kind}` }, el('code', {}, c.path), c.kind === 'added' ? ` added: ${show(c.after)}` : c.kind === 'removed' ? ` removed (was ${show(c.before)})` : ` ${show(c.before)} → ${show(c.after)}`))),
        );
  ctx.main.append(
    el('label', { for: 'policy-editor' }, `Current version ${current?.version ?? '(none yet)'}${current ? `, published ${ago(current.signedAt)}` : ''}`),
    editor,
    el('div', { class: 'toolbar' }, button('Check', () => void check()), canPublish ? button('Publish', async () => {
      const doc = check();
      if (doc === null) throw new Error('Fix the problems listed under the editor first.');
      const done = await api<{ version: number }>('PUT', '/admin/v1/policy', doc);
      notify(`Version ${done.version} published and signed.`);
      await policy(ctx);
    }, { class: 'primary' }) : el('span', { class: 'muted' }, 'Your role can read the policy but not publish it.')),
    problems,
    diffCard ?? '',
    card(
      'History',
      versions.length === 0
        ? el('p', { class: 'muted' }, 'No versions yet.')
        : table('Policy versions', ['Version', 'Published', ''], [...versions].reverse().map((v) => [String(v.version), ago(v.signedAt), canPublish && v.version !== current?.version ? button(`Roll back to ${v.version}`, async () => {
            const done = await api<{ version: number }>('POST', '/admin/v1/policy/rollback', { version: v.version });
            notify(`Rolled back: version ${done.version} carries version ${v.version}'s rules.`);
            await policy(ctx);
          }) : ''])),
    ),
  );
}

/** Inventory: AI apps and MCP servers across the fleet, approve or deny for everyone. */
export async function inventory(ctx: PageContext): Promise<void> {
  heading(ctx, 'Apps and MCP servers', 'AI apps and MCP servers your devices reported, and what the organisation decided.');
  const [inv, { devices: fleet }] = await Promise.all([
    api<{ pending: string; devicesReporting: number; items: Array<{ kind: 'app' | 'mcp'; key: string; name: string; devices: Array<{ decision: string }> }> }>('GET', '/admin/v1/inventory'),
    api<{ devices: Device[] }>('GET', '/admin/v1/devices'),
  ]);
  // Who a decision applies to: everyone, a team, or one device (the most specific wins on a device).
  const scopes: Array<[string, string, object]> = [
    ['everyone', 'Everyone', { kind: 'everyone' }],
    ...[...new Set(fleet.map((d) => d.team).filter((t): t is string => t !== null))].sort().map((t): [string, string, object] => [`team:${t}`, `Team ${t}`, { kind: 'team', team: t }]),
    ...fleet.map((d): [string, string, object] => [`device:${d.id}`, `Device ${d.hostname}`, { kind: 'device', deviceId: d.id }]),
  ];
  const scopeSelect = el('select', { id: 'decision-scope' }, ...scopes.map(([id, label]) => el('option', { value: id }, label)));
  const decide = async (item: { kind: string; key: string; name: string }, decision: 'approved' | 'denied'): Promise<void> => {
    const [, label, scope] = scopes.find(([id]) => id === scopeSelect.value) ?? (scopes[0] as [string, string, object]);
    await api('POST', '/admin/v1/inventory/decisions', { kind: item.kind, key: item.key, name: item.name, decision, scope });
    notify(`${item.name} ${decision === 'approved' ? 'approved' : 'denied'} for ${label === 'Everyone' ? 'everyone' : label}.`);
    await inventory(ctx);
  };
  ctx.main.append(el('p', { class: 'muted' }, `${inv.devicesReporting} devices reporting. Items nobody decided on are ${inv.pending === 'block' ? 'blocked' : 'allowed and reported'}.`));
  if (isAdmin(ctx.session)) ctx.main.append(el('div', { class: 'toolbar' }, el('label', { for: 'decision-scope' }, 'Decisions apply to'), scopeSelect));
  const rows = inv.items.map((i) => {
    const decisions = new Set(i.devices.map((d) => d.decision));
    const state = decisions.size === 1 ? [...decisions][0] : 'mixed';
    return [i.kind === 'app' ? 'App' : 'MCP server', el('strong', {}, i.name), el('code', {}, i.key), String(i.devices.length), el('span', { class: `pill pill-${state}` }, state ?? ''), isAdmin(ctx.session) ? el('div', { class: 'actions' }, button('Approve', () => decide(i, 'approved')), button('Deny', () => decide(i, 'denied'), { class: 'danger' })) : ''];
  });
  ctx.main.append(inv.items.length === 0 ? el('p', { class: 'muted' }, 'Nothing reported yet.') : table('Apps and MCP servers', ['Kind', 'Name', 'Key', 'Devices', 'Decision', ''], rows));
}

/** Spend: per user, virtual key or team, this month. */
export async function spend(ctx: PageContext, params: URLSearchParams): Promise<void> {
  heading(ctx, 'Spend', 'What AI use cost this month, by who spent it.');
  const by = params.get('by') ?? 'principal';
  const since = `${new Date().toISOString().slice(0, 7)}-01T00:00:00.000Z`;
  const [{ rows }, { rows: days }] = await Promise.all([
    api<{ rows: SpendRow[] }>('GET', `/admin/v1/spend?by=${encodeURIComponent(by)}&since=${encodeURIComponent(since)}`),
    api<{ rows: Array<SpendRow & { day: string }> }>('GET', `/admin/v1/spend?by=${encodeURIComponent(by)}&per=day&since=${encodeURIComponent(since)}`),
  ]);
  const tabs = el('nav', { class: 'tabs', 'aria-label': 'Group spend by' }, ...[['principal', 'User'], ['virtualKey', 'Virtual key'], ['team', 'Team']].map(([k, label]) => el('a', { href: `#/spend?by=${k}`, ...(k === by ? { 'aria-current': 'page' } : {}) }, label as string)));
  const top = rows.slice(0, 10);
  // Over time: one stacked bar per day, the five biggest spenders each a colour, the rest together.
  const five = rows.slice(0, 5).map((r) => r.key);
  const dayList = [...new Set(days.map((d) => d.day))];
  const palette = ['#0969da', '#1a7f37', '#bf8700', '#8250df', '#cf222e', '#6e7781'];
  const series = [...five, 'others'].map((key, i) => ({
    label: key,
    backgroundColor: palette[i] ?? '#999',
    data: dayList.map((day) => days.filter((d) => d.day === day && (key === 'others' ? !five.includes(d.key) : d.key === key)).reduce((a, d) => a + d.costUsd, 0)),
  }));
  const overTime = chart(`Spend per day this month: ${dayList.map((day, i) => `${day} ${money(series.reduce((a, s) => a + (s.data[i] ?? 0), 0))}`).join(', ')}`, {
    type: 'bar',
    data: { labels: dayList, datasets: series },
    options: { scales: { x: { stacked: true }, y: { stacked: true } } },
  });
  ctx.main.append(
    tabs,
    rows.length === 0
      ? el('p', { class: 'muted' }, 'No spend this month.')
      : el('div', {}, card('Spend per day', overTime), el('div', { class: 'grid' }, card('Top spenders', chart(`Spend by ${by}: ${top.map((r) => `${r.key} ${money(r.costUsd)}`).join(', ')}`, { type: 'bar', data: { labels: top.map((r) => r.key), datasets: [{ label: 'USD', data: top.map((r) => r.costUsd), backgroundColor: '#0969da' }] }, options: { plugins: { legend: { display: false } } } })), card('All', table('Spend', ['Who', 'Requests', 'Cost'], rows.map((r) => [r.key, r.requests.toLocaleString('en-US'), money(r.costUsd)]))))),
  );
}
