/** Answers the gate gives the client directly, in the provider's own error shape. */
import { DENIALS, type Denial, type DenialCode } from '../../shared/core/denials.js';
import { openAiError } from '../../shared/providers/errors.js';
import type { ProviderAdapter } from '../../shared/providers/types.js';
import type { Respond } from './seam.js';

/** The `x-outpost-decision` header value: decision, the refusal's code, and the rules that fired. */
export function decisionHeader(decision: string, code: string | null, ruleIds: readonly string[]): string {
  let v = decision;
  if (code !== null) v += `; code=${code}`;
  if (ruleIds.length > 0) v += `; rules=${[...new Set(ruleIds)].join(',')}`;
  return v;
}

/** A provider-shaped error answer; its status is the code's (one table: `DENIALS`). */
export function errorAnswer(adapter: ProviderAdapter | null, code: DenialCode, message: string, decision: string, retryAfter: number | null = null): Respond {
  const status = DENIALS[code].status;
  const shape = (adapter?.error ?? openAiError)(status, code, message);
  const headers: Record<string, string> = { 'content-type': shape.contentType, 'x-outpost-decision': decision };
  if (retryAfter !== null) headers['retry-after'] = String(retryAfter);
  return { kind: 'respond', status, headers, body: shape.body };
}

/** The answer to a refused request. */
export function denialAnswer(adapter: ProviderAdapter | null, d: Denial): Respond {
  return errorAnswer(
    adapter,
    d.code,
    d.message,
    decisionHeader(
      'block',
      d.code,
      d.rules.map((r) => r.id),
    ),
    d.retryAfterSeconds,
  );
}
