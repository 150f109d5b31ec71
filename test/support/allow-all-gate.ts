/**
 * A Gate that classifies hosts by the policy's interception lists and admits every request
 * unchanged: the engine's tests and benchmark use it to exercise and measure the engine alone
 * (a test and bench subject, never shipped in the agent's composition).
 */
import type { FailMode, Policy } from '../../shared/schema/policy.js';
import { compileHostPatterns } from '../../shared/core/hosts.js';
import type { Admission, BypassPolicy, ConnectEvent, Gate, HostAction, InterceptedRequest, Respond } from '../../agent/pipeline/seam.js';

/** What the allow-all gate needs from a policy. */
export interface AllowAllGateOptions {
  readonly interception: Pick<Policy['interception'], 'hosts' | 'blockedHosts' | 'bypassHosts'>;
  readonly failMode?: FailMode;
  /** Pinned clients and disagreeing names (default: the policy schema's defaults). */
  readonly bypassPolicy?: Partial<BypassPolicy>;
  /** Receives CONNECT-level events (blocked, pinned); tests collect them. */
  readonly onConnect?: (event: ConnectEvent) => void;
}

/** The provider's error body for `host`, in the shape its SDK parses (docs/architecture.md, "Errors to clients"). */
export function providerError(host: string, status: number, type: string, message: string): Respond {
  let body: string;
  if (host.endsWith('anthropic.com') || host === 'claude.ai') {
    body = JSON.stringify({ type: 'error', error: { type, message } });
  } else if (host.endsWith('googleapis.com') || host === 'gemini.google.com') {
    body = JSON.stringify({ error: { code: status, message, status: type.toUpperCase() } });
  } else {
    body = JSON.stringify({ error: { message, type, code: type, param: null } });
  }
  return { kind: 'respond', status, headers: { 'content-type': 'application/json', 'x-outpost-decision': 'error' }, body };
}

/** Builds the allow-all gate. */
export function createAllowAllGate(options: AllowAllGateOptions): Gate {
  const intercept = compileHostPatterns(options.interception.hosts);
  const blocked = compileHostPatterns(options.interception.blockedHosts);
  const bypass = compileHostPatterns(options.interception.bypassHosts);
  const onConnect = options.onConnect ?? ((): void => {});
  return {
    failMode: options.failMode ?? 'open',
    bypassPolicy: { pinnedClients: 'tunnel-and-report', nameMismatch: 'stricter', noServerName: 'tunnel', ...options.bypassPolicy },
    classify(host: string): HostAction {
      if (bypass.matches(host)) return 'tunnel';
      if (blocked.matches(host)) return 'block';
      return intercept.matches(host) ? 'intercept' : 'tunnel';
    },
    // Hot path: one small object per request, the request's own headers and body reused.
    admit(request: InterceptedRequest): Admission {
      return { kind: 'forward', path: request.path, headers: request.headers, body: request.body, decision: 'allow', tap: null };
    },
    // Nothing is recorded: the response ends at once.
    whenRecorded(callback: () => void): void {
      callback();
    },
    connect(event: ConnectEvent): void {
      onConnect(event);
    },
    tooLarge(request, limitBytes): Respond {
      return providerError(request.host, 413, 'request_too_large', `The request body is larger than the ${limitBytes} bytes Outpost accepts.`);
    },
    upstreamFailed(request, error): Respond {
      return providerError(request.host, 502, 'upstream_error', `Outpost could not reach ${request.host}: ${error.message}`);
    },
  };
}
