/**
 * Remote MCP servers (Streamable HTTP, JSON-RPC 2.0) on intercepted hosts: the policy's `mcp` block
 * applied before a tool runs and after it answers.
 *
 * - A listed server is recognised by its URL (host, port, path); any other POST whose body is
 *   JSON-RPC 2.0 from a client, on an intercepted host, is an unlisted server's (`mcp.unlisted`:
 *   governed with every tool allowed, or refused).
 * - `tools/call`: the tool rules first (a denied tool is answered with a JSON-RPC error naming the
 *   rule; the server never sees the call), then the input guardrails on every string of the
 *   arguments (block, or redact in place), then the output guardrails on the result's texts as the
 *   answer comes back, JSON or SSE (each SSE event is one whole message, so a stream is checked
 *   message by message without holding it). One audit record per call: server, tool, decision,
 *   rules, latency, arguments and result as `audit.recordPrompts` says.
 * - `tools/list`: a denied tool is removed from the answer, so the model never tries it.
 * - `initialize`, notifications, other methods, GET (the server's stream) and DELETE (session end)
 *   pass untouched.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { CompiledPolicy } from '../../shared/core/compile-policy.js';
import { evaluateGuardrails, redactForAudit, type CompiledGuardrail, type GuardrailOutcome } from '../../shared/core/guardrails/engine.js';
import type { McpServerRules } from '../../shared/core/mcp-rules.js';
import { argumentTexts, filterTools, parseRpc, POLICY_REFUSED, rewriteArguments, rpcError, toolName, visitResultTexts, type RpcId, type RpcRequest } from '../../shared/mcp/messages.js';
import { asObject } from '../../shared/providers/json-walk.js';
import { SseParser, type SseEvent } from '../../shared/providers/sse.js';
import type { AuditEntry, Decision, FiredRule } from '../../shared/schema/audit.js';
import { auditEntry, capText, NO_USAGE, type EntryBase } from './gate-audit.js';
import { decisionHeader } from './gate-respond.js';
import { barePath } from './gate-unread.js';
import type { Admission, InterceptedRequest, Respond, ResponseTap } from './seam.js';

/** Longest JSON answer held to check a tool result (bytes); a larger one passes unchecked, and says so. */
const MAX_HELD_BYTES = 8 * 1024 * 1024;

/** What the MCP governor borrows from the gate. */
export interface McpDeps {
  /** The policy in force, compiled. */
  compiled(): CompiledPolicy;
  /** The record's base: `provider` the server's id (or host), `endpoint` the JSON-RPC method, `texts` the recorded prompt. */
  base(request: InterceptedRequest, provider: string, endpoint: string, texts: readonly string[] | null): EntryBase;
  record(entry: AuditEntry): void;
  /** Rules redacting recorded text. */
  auditRules(): readonly CompiledGuardrail[];
}

/** The server a call is for, as records name it. */
interface Target {
  readonly rules: McpServerRules | null;
  /** The listed server's id, or the host of an unlisted one. */
  readonly name: string;
}

const rule = (id: string, kind: string, action: FiredRule['action'], target: FiredRule['target'], explanation: string): FiredRule => ({ id, kind, action, target, explanation });

/** A JSON-RPC answer the agent gives itself (the server never sees the request). */
function rpcAnswer(status: number, id: RpcId | undefined, message: string, decision: string): Respond {
  return { kind: 'respond', status, headers: { 'content-type': 'application/json', 'x-outpost-decision': decision }, body: rpcError(id, POLICY_REFUSED, message) };
}

/** Governs MCP traffic on intercepted hosts. */
export class McpGovernor {
  constructor(private readonly deps: McpDeps) {}

  /**
   * The admission of an MCP request, or null when the request is not MCP (it goes on as any other
   * call the adapters do not read).
   */
  admit(request: InterceptedRequest): Admission | null {
    const compiled = this.deps.compiled();
    const rules = compiled.mcp;
    const path = barePath(request.path);
    const authority = request.port === 443 ? request.host : `${request.host}:${request.port}`;
    const listed = rules.server(authority, path);
    const pass: Admission = { kind: 'forward', path: request.path, headers: request.headers, body: request.body, decision: 'pass', tap: null };
    // The server's own stream (GET) and the end of a session (DELETE) carry no tool call.
    if (request.method !== 'POST') return listed === null ? null : pass;
    let json: unknown;
    try {
      json = JSON.parse(request.body.toString('utf8'));
    } catch {
      return listed === null ? null : pass;
    }
    const rpc = parseRpc(json);
    if (rpc === null) return listed === null ? null : pass;
    const target: Target = { rules: listed, name: listed?.id ?? request.host };
    const first = Array.isArray(rpc) ? rpc[0] : rpc;
    if (listed === null && rules.unlisted === 'block') {
      const explanation = `${authority}${path} is not a listed MCP server and the policy blocks unlisted ones (mcp.unlisted: block)`;
      return this.refused(request, target, first, 403, `Outpost: this MCP server (${authority}${path}) is not approved by your organisation. Ask your administrator to list it.`, rule('mcp', 'server-not-listed', 'deny', 'request', explanation));
    }
    if (Array.isArray(rpc)) {
      const call = rpc.find((r) => r.method === 'tools/call');
      if (call === undefined) return pass;
      return this.refused(request, target, call, 400, 'Outpost: tool calls must be sent one per request (a batch cannot be checked call by call).', rule('mcp', 'batched-tool-call', 'deny', 'request', 'a JSON-RPC batch carried a tools/call'));
    }
    if (rpc.method === 'tools/call') return this.call(request, target, rpc, json, compiled);
    if (rpc.method === 'tools/list' && listed !== null && rpc.id !== undefined) {
      return { ...pass, tap: new McpTap({ kind: 'list', id: rpc.id, target, compiled, deps: this.deps, base: null, rules: [], argumentsRedacted: false }) };
    }
    return pass;
  }

  private call(request: InterceptedRequest, target: Target, rpc: RpcRequest, json: unknown, compiled: CompiledPolicy): Admission {
    const tool = toolName(rpc) ?? '(unnamed)';
    const verdict = compiled.mcp.tool(target.rules, tool);
    if (!verdict.allowed) {
      return this.refused(request, target, rpc, 200, `Outpost: ${verdict.rule}. Ask your administrator if you need this tool.`, rule('mcp', 'tool-denied', 'deny', 'request', verdict.rule));
    }
    const texts = argumentTexts(rpc);
    const g: GuardrailOutcome = evaluateGuardrails(compiled.guardrails.input, texts, 'input', compiled.policy.failMode);
    if (g.action === 'block') {
      const by = g.blockedBy;
      const found = g.rules.find((r) => r.id === by?.id);
      const message = by?.message ?? `Outpost blocked this tool call: ${found?.explanation ?? 'a guardrail fired'} in its arguments (rule "${by?.id ?? 'guardrails'}").`;
      return this.refused(request, target, rpc, 200, message, ...g.rules);
    }
    let body = request.body;
    if (g.redacted !== null) {
      rewriteArguments(rpc, g.redacted);
      body = Buffer.from(JSON.stringify(json));
    }
    const headers = body === request.body ? request.headers : withoutLength(request.headers);
    const base = this.deps.base(request, target.name, 'tools/call', texts);
    const tap = new McpTap({ kind: 'call', id: rpc.id ?? null, target, compiled, deps: this.deps, base: { ...base, tool }, rules: [...g.rules], argumentsRedacted: g.redacted !== null });
    return { kind: 'forward', path: request.path, headers, body, decision: decisionHeader(g.action === 'redact' ? 'redact' : 'allow', null, g.rules.map((r) => r.id)), tap };
  }

  /** Refuses `rpc` with a JSON-RPC error and records it. */
  private refused(request: InterceptedRequest, target: Target, rpc: RpcRequest | undefined, status: number, message: string, ...rules: FiredRule[]): Respond {
    const tool = rpc?.method === 'tools/call' ? (toolName(rpc) ?? '(unnamed)') : null;
    const texts = rpc?.method === 'tools/call' ? argumentTexts(rpc) : null;
    const base = this.deps.base(request, target.name, rpc?.method ?? 'mcp', texts);
    const code = rules[0]?.kind ?? 'mcp';
    const answer = rpcAnswer(status, rpc?.id, message, decisionHeader('block', code, rules.map((r) => r.id)));
    const entry = auditEntry(base, { decision: 'block', rules, status, error: message, latencyMs: performance.now() - request.receivedAt, ttfbMs: null, ...NO_USAGE });
    this.deps.record(tool === null ? entry : { ...entry, tool });
    return answer;
  }
}

function withoutLength(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'content-length': _drop, ...rest } = headers;
  return rest;
}

interface TapSpec {
  readonly kind: 'call' | 'list';
  readonly id: RpcId;
  readonly target: Target;
  readonly compiled: CompiledPolicy;
  readonly deps: McpDeps;
  /** The record's base (calls only), with the tool named. */
  readonly base: (EntryBase & { readonly tool: string }) | null;
  /** Input rules that fired. */
  readonly rules: FiredRule[];
  readonly argumentsRedacted: boolean;
}

/**
 * The answer to a `tools/call` or `tools/list`: JSON held whole (bounded) then checked, SSE checked
 * event by event (each event is one JSON-RPC message); other answers pass untouched.
 */
class McpTap implements ResponseTap {
  readonly readsBody = true;
  readonly stopped = false;
  private mode: 'json' | 'sse' | 'pass' = 'pass';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private parser: SseParser | null = null;
  private status: number | null = null;
  private ttfbMs: number | null = null;
  private output: string[] = [];
  private decision: Decision = 'allow';
  private done = false;

  constructor(private readonly spec: TapSpec) {
    if (spec.argumentsRedacted) this.decision = 'redact';
    else if (spec.rules.some((r) => r.action === 'warn')) this.decision = 'warn';
  }

  head(status: number, headers: IncomingHttpHeaders): boolean {
    this.status = status;
    if (this.spec.base !== null) this.ttfbMs = performance.now() - this.spec.base.request.receivedAt;
    const type = (headers['content-type'] ?? '').toLowerCase();
    if (status < 400 && type.startsWith('application/json')) this.mode = 'json';
    else if (status < 400 && type.startsWith('text/event-stream')) {
      this.mode = 'sse';
      this.parser = new SseParser();
    }
    return this.mode !== 'pass';
  }

  chunk(data: Buffer): Buffer | null {
    if (this.mode === 'json') {
      this.heldBytes += data.length;
      this.held.push(data);
      if (this.heldBytes <= MAX_HELD_BYTES) return null;
      this.note(rule('mcp', 'result-unchecked', 'log', 'output', `the answer is larger than ${MAX_HELD_BYTES} bytes: passed unchecked`));
      this.mode = 'pass';
      const out = Buffer.concat(this.held);
      this.held = [];
      return out;
    }
    if (this.mode === 'sse' && this.parser !== null) {
      const events = this.parser.push(data);
      if (events.length === 0) return null;
      let out = '';
      for (const ev of events) out += this.event(ev);
      return Buffer.from(out);
    }
    return data;
  }

  end(): Buffer | null {
    let rest: Buffer | null = null;
    if (this.mode === 'json') {
      const text = Buffer.concat(this.held).toString('utf8');
      this.held = [];
      rest = Buffer.from(this.json(text));
    } else if (this.mode === 'sse' && this.parser !== null) {
      const tail = this.parser.rest();
      rest = tail.length > 0 ? Buffer.from(tail) : null;
    }
    this.finish(null);
    return rest;
  }

  fail(error: Error, side: 'upstream' | 'client'): void {
    if (side === 'upstream') this.decision = 'error';
    this.finish(`${side} failed: ${error.message}`);
  }

  unchecked(reason: string): void {
    this.note(rule('mcp', 'result-unchecked', 'log', 'output', `the answer could not be read (${reason}): passed unchecked`));
    this.mode = 'pass';
    this.held = [];
  }

  refuse(reason: string, _sent: boolean): Respond {
    this.decision = 'block';
    this.finish(reason);
    return rpcAnswer(502, this.spec.id, `Outpost refused the MCP server's answer: ${reason}`, decisionHeader('block', 'response_refused', []));
  }

  private note(r: FiredRule): void {
    this.spec.rules.push(r);
  }

  /** A JSON answer, checked; returns the text to send. */
  private json(text: string): string {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.note(rule('mcp', 'result-unchecked', 'log', 'output', 'the answer is not JSON: passed unchecked'));
      return text;
    }
    return this.message(msg) ? JSON.stringify(msg) : text;
  }

  /** One SSE event, checked; returns its text (the raw event when unchanged). */
  private event(ev: SseEvent): string {
    if (ev.data.length === 0) return ev.raw;
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return ev.raw;
    }
    if (!this.message(msg)) return ev.raw;
    // Keep the event's other fields (`event:`, `id:` for resumption), with one data line.
    const lines = ev.raw.split(/\r\n|\n|\r/).filter((l) => l.length > 0 && !l.startsWith('data'));
    return `${[...lines, `data: ${JSON.stringify(msg)}`].join('\n')}\n\n`;
  }

  /** Checks one JSON-RPC message from the server in place; true when it changed. */
  private message(raw: unknown): boolean {
    const msg = asObject(raw);
    if (msg === null || msg['id'] !== this.spec.id) return false;
    const result = asObject(msg['result']);
    if (result === null) return false;
    if (this.spec.kind === 'list') {
      const { compiled, target } = this.spec;
      return filterTools(result, (name) => compiled.mcp.tool(target.rules, name).allowed) > 0;
    }
    return this.result(msg, result);
  }

  /** Output guardrails on a tool result: block replaces it with an error, redact rewrites its texts. */
  private result(msg: Record<string, unknown>, result: Record<string, unknown>): boolean {
    const { compiled } = this.spec;
    const texts: string[] = [];
    visitResultTexts(result, (t) => {
      texts.push(t);
      return undefined;
    });
    const g = evaluateGuardrails(compiled.guardrails.output, texts, 'output', compiled.policy.failMode);
    this.spec.rules.push(...g.rules);
    if (g.action === 'block') {
      const by = g.blockedBy;
      const found = g.rules.find((r) => r.id === by?.id);
      delete msg['result'];
      msg['error'] = { code: POLICY_REFUSED, message: by?.message ?? `Outpost blocked this tool's result: ${found?.explanation ?? 'a guardrail fired'} (rule "${by?.id ?? 'guardrails'}").` };
      this.decision = 'block';
      this.output = [];
      return true;
    }
    if (g.action === 'redact' && g.redacted !== null) {
      const redacted = g.redacted;
      let i = 0;
      visitResultTexts(result, () => redacted[i++] ?? undefined);
      if (this.decision !== 'block') this.decision = 'redact';
    } else if (g.action === 'warn' && this.decision === 'allow') this.decision = 'warn';
    this.output = texts;
    return g.action === 'redact';
  }

  private finish(error: string | null): void {
    if (this.done) return;
    this.done = true;
    const base = this.spec.base;
    if (base === null) return;
    const { deps, compiled } = this.spec;
    const recordOutput = compiled.policy.audit.recordPrompts !== 'none' && this.output.length > 0;
    const output = recordOutput ? capText(redactForAudit(deps.auditRules(), [this.output.join('\n')])[0] ?? '') : null;
    const entry = auditEntry(base, {
      decision: this.decision,
      rules: this.spec.rules,
      status: this.status,
      error,
      latencyMs: performance.now() - base.request.receivedAt,
      ttfbMs: this.ttfbMs,
      ...NO_USAGE,
      output,
    });
    deps.record({ ...entry, tool: base.tool });
  }
}
