/**
 * Pure: the words and numbers the tray window shows, from the control API's data. Written for
 * people, not engineers: no codes without words, money in dollars, times in the reader's locale.
 */
import type { ActivityItem, AgentStatus, BudgetView, DoctorCheck } from '../../shared/schema/control.js';

/** The header: a headline and one line under it. */
export function headline(status: Pick<AgentStatus, 'state' | 'degraded' | 'paused'>): { tone: 'ok' | 'warn' | 'paused'; title: string; detail: string } {
  if (status.paused) return { tone: 'paused', title: 'Protection is paused', detail: `AI traffic passes without checks until ${new Date(status.paused.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.` };
  if (status.degraded.length > 0) {
    const first = plainReason(status.degraded[0] ?? '');
    const more = status.degraded.length > 1 ? ` (and ${status.degraded.length - 1} more)` : '';
    return { tone: 'warn', title: 'Protection needs attention', detail: `${first}${more} Run a check-up below for details.` };
  }
  return { tone: 'ok', title: 'You are protected', detail: 'Outpost checks your AI apps’ traffic against your company’s policy.' };
}

/**
 * What a degraded reason means for the person at the computer. The agent's reasons are written for
 * IT (paths, versions, commands); the check-up and the diagnostics report keep them whole.
 */
const PLAIN_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^audit:/, 'Outpost cannot save its activity log right now.'],
  [/^CA key in a file/, 'Outpost’s security key is kept in a file instead of this computer’s keychain.'],
  [/^the key of the previous CA root/, 'Outpost had to make a new security certificate; some apps may need to trust it again.'],
  [/policy was refused|signed policy v\d+ was refused/, 'Your company sent a policy Outpost could not use, so it keeps the last good one.'],
  [/^gateway: this device was revoked/, 'Your IT team removed this computer from your company’s Outpost.'],
  [/^gateway:/, 'Outpost cannot reach your company’s server; it keeps protecting you with the last policy.'],
  [/^CA cannot sign/, 'Some AI services cannot be checked, so Outpost stops requests to them.'],
  [/not trusted yet/, 'Some apps do not trust Outpost’s new certificate yet.'],
  [/^transparent door/, 'Outpost cannot see where some redirected connections were going.'],
  [/^gate: internal failure/, 'Outpost hit an internal problem while checking a request.'],
];

/** A degraded reason in plain words (the reason itself when none fits). */
export function plainReason(reason: string): string {
  for (const [pattern, text] of PLAIN_REASONS) if (pattern.test(reason)) return text;
  return reason.endsWith('.') ? reason : `${reason}.`;
}

/** One word for a decision. */
export function decisionLabel(decision: ActivityItem['decision']): string {
  return { allow: 'Allowed', redact: 'Cleaned', warn: 'Flagged', block: 'Blocked', error: 'Failed' }[decision];
}

/** How people write the providers' names. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = { openai: 'OpenAI', anthropic: 'Anthropic', gemini: 'Google Gemini', azure: 'Azure OpenAI', bedrock: 'AWS Bedrock', vertex: 'Google Vertex AI', mistral: 'Mistral', groq: 'Groq', xai: 'xAI', deepseek: 'DeepSeek', openrouter: 'OpenRouter' };

/** Where the request went, in words: the app and the service. */
export function requestLine(item: Pick<ActivityItem, 'app' | 'host' | 'provider' | 'model'>): string {
  const service = item.provider === null ? item.host : (PROVIDER_NAMES[item.provider] ?? `${item.provider[0]?.toUpperCase() ?? ''}${item.provider.slice(1)}`);
  const app = item.app === null ? '' : ` from ${item.app.split(/[ /]/)[0] ?? item.app}`;
  return `${service}${item.model === null ? '' : ` · ${item.model}`}${app}`;
}

/** Dollars as people read them: cents, "under 1¢" for the tiny cost of one small request, thousands grouped. */
export function money(usd: number): string {
  if (usd > 0 && usd < 0.01) return 'under 1¢';
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A limit as written in policy: a tiny one (a test key's $0.002) keeps its digits instead of "under 1¢". */
export function limitMoney(usd: number): string {
  return usd > 0 && usd < 0.01 ? `$${Number(usd.toPrecision(2))}` : money(usd);
}

/** The link to the company's central Outpost, in words; null when this computer is not enrolled. */
export function gatewayLine(gateway: AgentStatus['gateway']): { tone: 'ok' | 'warn'; text: string } | null {
  if (gateway === null || gateway === undefined) return null;
  const host = (() => {
    try {
      return new URL(gateway.url).host;
    } catch {
      return gateway.url;
    }
  })();
  const policy = gateway.policyVersion === null ? 'waiting for your company’s policy' : `company policy version ${gateway.policyVersion}`;
  switch (gateway.state) {
    case 'connected':
      return { tone: 'ok', text: `Connected to your company (${host}) · ${policy}` };
    case 'connecting':
      return { tone: 'ok', text: `Connecting to your company (${host})…` };
    case 'waiting':
      return { tone: 'warn', text: `Cannot reach your company’s Outpost (${host}) right now. Protection goes on with the last policy; activity is kept and sent later.` };
    case 'revoked':
      return { tone: 'warn', text: 'Your IT team removed this computer from your company’s Outpost. Protection goes on with the last policy; ask IT to add it again.' };
    default:
      return { tone: 'warn', text: `Not connected to your company (${host}).` };
  }
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
