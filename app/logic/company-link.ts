/**
 * Pure: the link to the company's central Outpost (the gateway), in words, for the window and the
 * tray menu: connected, connecting, unreachable since when, removed by IT, or not enrolled; the
 * server's host; the company policy in force and when it was published.
 */
import type { AgentStatus } from '../../shared/schema/control.js';
import { shortWhen } from './when.js';

/** One line, and whether it is calm (`ok`), worth a glance (`warn`), or simply informative (`none`). */
export interface CompanyLink {
  readonly tone: 'ok' | 'warn' | 'none';
  readonly text: string;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

type Gateway = NonNullable<AgentStatus['gateway']>;

/** `version N, published T` for the policy in force; null before the first company policy. */
function policyPart(gateway: Gateway, now: Date): string | null {
  if (gateway.policyVersion === null) return null;
  const when = gateway.policySignedAt ? `, published ${shortWhen(gateway.policySignedAt, now)}` : '';
  return `version ${gateway.policyVersion}${when}`;
}

/** A retry after a failure is still "unreachable" until it succeeds (the link does not flicker). */
function linkState(gateway: Gateway): Gateway['state'] {
  return gateway.state === 'connecting' && gateway.unreachableSince ? 'waiting' : gateway.state;
}

/** The link in words; `gateway` null (or absent, an older agent) means this computer is not enrolled. */
export function companyLink(gateway: AgentStatus['gateway'], now: Date = new Date()): CompanyLink {
  if (gateway === null || gateway === undefined) return { tone: 'none', text: 'Not connected to a company server: Outpost uses the policy set on this computer.' };
  const host = hostOf(gateway.url);
  const policy = policyPart(gateway, now);
  switch (linkState(gateway)) {
    case 'connected':
      return { tone: 'ok', text: `Connected to your company (${host}) · ${policy === null ? 'waiting for your company’s policy' : `company policy ${policy}`}` };
    case 'connecting':
      return { tone: 'ok', text: `Connecting to your company (${host})…` };
    case 'waiting': {
      const since = gateway.unreachableSince ? ` since ${shortWhen(gateway.unreachableSince, now)}` : '';
      const last = policy === null ? 'the policy set on this computer' : `the last company policy (${policy})`;
      return { tone: 'warn', text: `Cannot reach your company’s server (${host})${since}. Protection goes on with ${last}; activity is kept and sent later.` };
    }
    case 'revoked':
      return { tone: 'warn', text: 'Your IT team removed this computer from your company’s Outpost. Protection goes on with the last policy; ask IT to add it again.' };
    default:
      return { tone: 'warn', text: `Not connected to your company (${host}).` };
  }
}

/** The menu's short form: one line under the status line. */
export function companyMenuLine(gateway: AgentStatus['gateway'], now: Date = new Date()): string {
  if (gateway === null || gateway === undefined) return 'Company server: not set up';
  const host = hostOf(gateway.url);
  const version = gateway.policyVersion === null ? '' : ` · policy v${gateway.policyVersion}`;
  switch (linkState(gateway)) {
    case 'connected':
      return `Company server: connected (${host})${version}`;
    case 'connecting':
      return `Company server: connecting (${host})`;
    case 'waiting':
      return `Company server: unreachable${gateway.unreachableSince ? ` since ${shortWhen(gateway.unreachableSince, now)}` : ''}${version}`;
    case 'revoked':
      return 'Company server: this computer was removed by IT';
    default:
      return `Company server: not connected (${host})`;
  }
}
