/**
 * Fail-closed auditing: when the policy says `closed` and the audit log cannot take records (store
 * unwritable, spool at its cap), requests are refused before they leave the machine, in the
 * provider's own error shape. In fail-open the log keeps records in memory and requests go on.
 */
import { matchEndpoint } from '../../shared/providers/registry.js';
import { decisionHeader, errorAnswer } from './gate-respond.js';
import type { Gate } from './seam.js';

/** What the guard asks of the audit log. */
export interface AuditHealthSource {
  canAccept(): boolean;
  health(): { readonly reason?: string };
}

/** Wraps `gate` so that `admit` refuses while `audit.canAccept()` is false. */
export function guardAuditHealth<G extends Gate>(gate: G, audit: AuditHealthSource): Gate {
  return {
    get failMode() {
      return gate.failMode;
    },
    classify: (host) => gate.classify(host),
    connect: (event) => gate.connect(event),
    tooLarge: (request, limit) => gate.tooLarge(request, limit),
    upstreamFailed: (request, error) => gate.upstreamFailed(request, error),
    // HOT PATH: one boolean check before the real decision.
    admit(request) {
      if (audit.canAccept()) return gate.admit(request);
      const endpoint = matchEndpoint(request.host, request.method, request.path);
      const why = audit.health().reason ?? 'the audit log cannot record';
      return errorAnswer(
        endpoint?.adapter ?? null,
        503,
        'audit_unavailable',
        `Outpost refused this request because it cannot be audited (${why}) and the policy fails closed. Try again later or contact IT.`,
        decisionHeader('block', 'audit_unavailable', []),
      );
    },
  };
}
