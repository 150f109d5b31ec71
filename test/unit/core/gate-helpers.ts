/** Helpers for driving the Gate directly: a request in, an admission out, bytes through the tap. */
import { createGate, type OutpostGate } from '../../../agent/pipeline/gate.js';
import type { Admission, Forward, InterceptedRequest, Respond } from '../../../agent/pipeline/seam.js';
import type { AuditEntry } from '../../../shared/schema/audit.js';
import { policy, type PolicyInput } from '../../../shared/schema/policy.js';

let n = 0;

/** An intercepted request as the engine builds it. */
export function request(host: string, path: string, body: unknown, headers: Record<string, string> = {}): InterceptedRequest {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return {
    id: `req-${++n}`,
    host,
    port: 443,
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'content-length': String(raw.length), 'user-agent': 'test-sdk/1.0', ...headers },
    body: raw,
    app: 'test-sdk/1.0',
    receivedAt: performance.now(),
  };
}

/** A gate over `input` with a recording audit sink and an in-memory secret store. */
export function gateWith(input: Partial<PolicyInput>, secrets: Record<string, string> = {}): { gate: OutpostGate; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  const gate = createGate({
    policy: policy.parse({ version: 1, name: 'test', interception: { hosts: ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com'] }, ...input }),
    audit: { record: (e) => audit.push(e) },
    secrets: { resolve: async (ref) => secrets[ref] ?? null },
    identity: { device: 'dev-1', user: 'jane@acme.example' },
  });
  return { gate, audit };
}

/** Awaits an admission. */
export async function admit(gate: OutpostGate, req: InterceptedRequest): Promise<Admission> {
  return gate.admit(req);
}

/** Narrowing helpers. */
export function asForward(a: Admission): Forward {
  if (a.kind !== 'forward') throw new Error(`expected forward, got ${a.status} ${a.body}`);
  return a;
}
export function asRespond(a: Admission): Respond {
  if (a.kind !== 'respond') throw new Error('expected respond, got forward');
  return a;
}

/**
 * Feeds `body` through the tap of `f` in chunks of the given sizes (cycled), as the engine would,
 * and returns what the client received.
 */
export function pump(f: Forward, status: number, contentType: string, body: string, sizes: number[] = [7, 1, 13, 64]): { client: string; stopped: boolean } {
  const tap = f.tap;
  if (tap === null) throw new Error('no tap');
  tap.head(status, { 'content-type': contentType });
  const bytes = Buffer.from(body);
  const out: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const size = sizes[i++ % sizes.length] ?? 16;
    const piece = tap.chunk(bytes.subarray(pos, pos + size));
    pos += size;
    if (piece !== null) out.push(piece);
    if (tap.stopped) return { client: Buffer.concat(out).toString('utf8'), stopped: true };
  }
  const rest = tap.end();
  if (rest !== null) out.push(rest);
  return { client: Buffer.concat(out).toString('utf8'), stopped: false };
}

/** OpenAI chat SSE for `deltas`, with a usage chunk when `usage` is given. */
export function openAiSse(deltas: string[], usage?: { prompt: number; completion: number; cached?: number }): string {
  const chunk = (delta: object, finish: string | null, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  let s = chunk({ role: 'assistant', content: '' }, null);
  for (const d of deltas) s += chunk({ content: d }, null);
  s += chunk({}, 'stop');
  if (usage) s += `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion, prompt_tokens_details: { cached_tokens: usage.cached ?? 0 } } })}\n\n`;
  return `${s}data: [DONE]\n\n`;
}
