/**
 * Pure: the words and numbers the tray window shows, from the control API's data. Written for
 * people, not engineers: no codes without words, money in dollars, times in the reader's locale.
 */
import type { ActivityItem, AgentStatus, BudgetView, DoctorCheck } from '../../shared/schema/control.js';
import { providerName } from '../../shared/providers/names.js';
import { money } from '../../shared/money.js';

export { money };
import { plainReason } from '../logic/plain-reasons.js';
import { shortWhen } from '../logic/when.js';

/** The header: a headline and one line under it. */
export function headline(status: Pick<AgentStatus, 'state' | 'degraded' | 'paused'>): { tone: 'ok' | 'warn' | 'paused'; title: string; detail: string } {
  if (status.paused) return { tone: 'paused', title: 'Protection is paused', detail: `AI traffic passes without checks until ${shortWhen(status.paused.until)}.` };
  if (status.degraded.length > 0) {
    // Several technical reasons can mean one thing to the reader: each meaning once.
    const reasons = [...new Set(status.degraded.map(plainReason))];
    return { tone: 'warn', title: 'Protection needs attention', detail: `${reasons.join(' ')} Run a check-up below for details.` };
  }
  return { tone: 'ok', title: 'You are protected', detail: 'Outpost checks your AI apps’ traffic against your company’s policy.' };
}

/** One word for a decision. */
export function decisionLabel(decision: ActivityItem['decision']): string {
  return { allow: 'Allowed', redact: 'Cleaned', warn: 'Flagged', block: 'Blocked', error: 'Failed' }[decision];
}


/** Where the request went, in words: the app and the service. */
export function requestLine(item: Pick<ActivityItem, 'app' | 'host' | 'provider' | 'model'>): string {
  const service = item.provider === null ? item.host : providerName(item.provider);
  const app = item.app === null ? '' : ` from ${item.app.split(/[ /]/)[0] ?? item.app}`;
  return `${service}${item.model === null ? '' : ` · ${item.model}`}${app}`;
}

/** A limit as written in policy: a tiny one (a test key's $0.002) keeps its digits instead of "under 1¢". */
export function limitMoney(usd: number): string {
  return usd > 0 && usd < 0.01 ? `$${Number(usd.toPrecision(2))}` : money(usd);
}

/** A self-check as a line people read: what, how it went, and the fix when one exists. */
export function checkLine(c: Pick<DoctorCheck, 'title' | 'outcome' | 'detail' | 'fix'>): { mark: string; label: string; text: string; fix: string | null } {
  const [mark, label] = { ok: ['✓', 'Passed'], warn: ['!', 'Worth a look'], fail: ['✗', 'Needs fixing'], skip: ['–', 'Not checked'] }[c.outcome] as [string, string];
  return { mark, label, text: `${c.title}: ${c.detail}`, fix: c.outcome === 'ok' || c.outcome === 'skip' ? null : c.fix };
}

/** A budget as a bar: percent used (0–100) and its label. */
export function budgetBar(b: Pick<BudgetView, 'spentUsd' | 'limitUsd' | 'resetsAt' | 'scope' | 'id'>): { percent: number; label: string; detail: string } {
  // To a tenth of a percent, so a bar visibly moves with small requests.
  const percent = b.limitUsd <= 0 ? 100 : Math.min(100, Math.round((b.spentUsd / b.limitUsd) * 1000) / 10);
  const who = b.scope === 'org' ? 'Company budget' : b.scope.startsWith('team:') ? `Team ${b.scope.slice(5)}` : b.scope.startsWith('vk:') ? `Key ${b.scope.slice(3)}` : 'Your budget';
  return { percent, label: who, detail: `${money(b.spentUsd)} of ${limitMoney(b.limitUsd)} · resets ${new Date(b.resetsAt).toLocaleDateString([], { month: 'short', day: 'numeric' })}` };
}
