/**
 * The decision: what a central AI gateway decides for a request, made locally before anything
 * leaves the machine. In order, cheapest and most certain first: credential and principal, model
 * allow-list, known price, input guardrails, rate limits (reserve), budgets (reserve). An admitted
 * request holds reservations until `complete` (real usage) or `abandon` (failed before any cost).
 *
 * Pure: no I/O; time comes in as `nowMs`. Counters live in the `Governor`, which outlives policy
 * versions (a new policy keeps the spend so far).
 */
import type { FiredRule } from '../schema/audit.js';
import type { ProviderRef } from '../schema/custom-provider.js';
import type { Policy } from '../schema/policy.js';
import { BudgetLedger, type BudgetShortfall, type BudgetState, type BudgetTicket } from './budgets.js';
import { compilePolicy, type CompiledPolicy } from './compile-policy.js';
import { denial, type Denial } from './denials.js';
import { evaluateGuardrails, type GuardrailOutcome } from './guardrails/engine.js';
import { DETECTORS, type DetectorFactories } from './guardrails/registry.js';
import type { Identity, Principal } from './principals.js';
import { withPolicyPrices } from './policy-prices.js';
import type { PriceTable, TokenUsage } from './pricing.js';
import { RateLimiter, deviceShareOf, type RateState, type RateTicket } from './rate-limits.js';
import { DEFAULT_OUTPUT_TOKENS, estimateInputTokens } from './tokens.js';
import { VIRTUAL_KEY_PREFIX, type CompiledVirtualKey, type Credential } from './virtual-keys.js';

/** What the provider adapter extracted from a request, for the decision. */
export interface RequestFacts {
  /** A built-in provider id, or the policy's custom provider id. */
  readonly provider: ProviderRef;
  /** Null when the endpoint names none (some web-app calls): the allow-list cannot apply. */
  readonly model: string | null;
  /** Every credential on the request (`findCredentials`). */
  readonly credentials: readonly Credential[];
  /** The prompt's text parts (system, messages, tool calls and results), for guardrails. */
  readonly texts: readonly string[];
  /**
   * What else the client sends that a credential could hide in: header lines and URL query
   * parameters, except the credential the virtual-key swap owns. Scanned by the input `secrets`
   * rules; a finding there cannot be redacted in place, so `redact` refuses like `block`.
   */
  readonly metadata?: readonly string[];
  /** Characters of prompt text, for the token estimate. */
  readonly promptChars: number;
  /** The output cap the request names, or null. */
  readonly maxOutputTokens: number | null;
  /** False for subscription web apps: no per-token price, so no pricing check or cost estimate. */
  readonly metered: boolean;
  /**
   * True when the client signs in with the user's own account (Copilot, Codex with ChatGPT, Gemini
   * CLI with Google): no provider key exists to swap, so `defaults.requireVirtualKey` does not apply.
   * Web apps (unmetered) are always treated so.
   */
  readonly signedIn?: boolean;
  /**
   * The virtual key the user picked in the tray (its id), or null. A metered request that carries no
   * virtual key of its own runs as that key (its budget, limits, models, and its provider key in
   * place of whatever credential the app sent), when the user may pick it (its owner is the user, the
   * device or one of their teams), it is not revoked, and it has a key for this provider.
   */
  readonly selectedKeyId?: string | null;
}

/** An admitted request and what it holds. */
export interface Grant {
  readonly ok: true;
  readonly principal: Principal;
  /** The credential that carried the virtual key (to remove before forwarding), or null. */
  readonly vkCredential: Credential | null;
  /** `keychain:NAME` of the provider key to inject, or null (forward the client's own credentials). */
  readonly providerKeyRef: string | null;
  readonly decision: 'allow' | 'redact' | 'warn';
  readonly rules: readonly FiredRule[];
  /** The prompt texts redacted (aligned with `RequestFacts.texts`), or null when unchanged. */
  readonly redacted: ReadonlyArray<string | null> | null;
  readonly estimateTokens: number;
  readonly estimateUsd: number;
  /** False when the model has no known price and the policy allows it (flagged, never a silent $0). */
  readonly priced: boolean;
  readonly rate: RateTicket;
  readonly budget: BudgetTicket;
}

/** A refused request. */
export interface Refusal {
  readonly ok: false;
  readonly denial: Denial;
  readonly principal: Principal | null;
  /** Every rule that fired, the refusing one included. */
  readonly rules: readonly FiredRule[];
  /** Set when a budget refused: which window, why, and the request's estimate. */
  readonly budget?: BudgetShortfall;
}

/** What the core charged for a finished request. */
export interface Settlement {
  readonly costUsd: number | null;
  readonly priceVersion: string | null;
}

/** A finished request as the audit recorded it: what `Governor.replay` charges. */
export interface RecordedSpend {
  /** ISO time of the record. */
  readonly time: string;
  readonly principal: string | null;
  readonly decision: string;
  readonly costUsd: number | null;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
}

/** What a replay went through. */
export interface ReplayTotals {
  /** Admitted requests with usage (charged where their windows are still current). */
  readonly requests: number;
  /** Cost charged to budgets (principals the policy still knows, current windows or not). */
  readonly costUsd: number;
  /** Tokens charged to rate windows (current windows or not). */
  readonly tokens: number;
}

/** Counter state as plain JSON, for the state store. */
export interface GovernorState {
  readonly budgets: BudgetState;
  readonly rates: RateState;
}

function rule(id: string, kind: string, action: FiredRule['action'], explanation: string): FiredRule {
  return { id, kind, action, target: 'request', explanation };
}

const usd = (n: number): string => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/** Owns the counters and the compiled policy; one per agent. */
export class Governor {
  readonly limiter = new RateLimiter();
  readonly ledger = new BudgetLedger();
  private current: CompiledPolicy;
  private pricing: PriceTable;
  /** This device's share of fleet-scoped rate limits (the central gateway's `rate.share`); 1 standalone. */
  private rateShare = 1;

  constructor(
    policy: Policy,
    private readonly identity: Identity,
    /** The price database; each policy version puts its custom providers' prices in front of it. */
    private readonly basePrices: PriceTable,
    /** The guardrail detectors by type (every policy version is compiled with them). */
    private readonly detectors: DetectorFactories = DETECTORS,
  ) {
    this.current = compilePolicy(policy, identity, detectors);
    this.pricing = withPolicyPrices(basePrices, policy);
  }

  /** The compiled policy in force. */
  get compiled(): CompiledPolicy {
    return this.current;
  }

  /** The prices in force: the policy's for its custom providers, else the price database's. */
  get prices(): PriceTable {
    return this.pricing;
  }

  /** Sets this device's share of fleet-scoped rate limits (0 < share ≤ 1). */
  setFleetRateShare(share: number): void {
    this.rateShare = Math.min(1, Math.max(Number.MIN_VALUE, share));
  }

  /** Switches to a new policy version; counters are kept. */
  setPolicy(policy: Policy): void {
    this.current = compilePolicy(policy, this.identity, this.detectors);
    this.pricing = withPolicyPrices(this.basePrices, policy);
  }

  /** The key the user picked, when it may serve a request to `provider` (see `RequestFacts.selectedKeyId`); else null. */
  private pickable(id: string, provider: ProviderRef): CompiledVirtualKey | null {
    const cp = this.current;
    const vk = cp.keys.byId(id);
    if (vk === null || vk.revoked || vk.providerKeys[provider] === undefined) return null;
    return cp.principals.resolve(null).scopes.includes(vk.owner) ? vk : null;
  }

  /** Decides on a request. Hot path. */
  admit(facts: RequestFacts, nowMs: number): Grant | Refusal {
    const cp = this.current;
    const policy = cp.policy;

    // 1. Credential → virtual key → principal.
    let vk: CompiledVirtualKey | null = null;
    let vkCredential: Credential | null = null;
    let raw = false;
    for (const c of facts.credentials) {
      const found = cp.keys.lookup(c.value);
      if (found !== null) {
        vk = found;
        vkCredential = c;
        break;
      }
      if (c.location === 'x-outpost-vk' || c.value.startsWith(VIRTUAL_KEY_PREFIX)) {
        return this.refuse(denial('unknown_virtual_key', 'Outpost: this virtual key is not known to the current policy. Check the key, or ask your administrator for a valid one.', [rule('virtual-keys', 'unknown-virtual-key', 'deny', `a virtual key in ${c.location} matched no key of the policy`)]), null);
      }
      raw = true;
    }
    if (vk === null && facts.selectedKeyId != null && facts.metered && facts.signedIn !== true) vk = this.pickable(facts.selectedKeyId, facts.provider);
    if (vk !== null && vk.revoked) {
      return this.refuse(denial('virtual_key_revoked', `Outpost: virtual key "${vk.id}" has been revoked. Ask your administrator for a new one.`, [rule('virtual-keys', 'revoked-virtual-key', 'deny', `virtual key ${vk.id} is revoked`)]), null);
    }
    // Web apps (unmetered) and signed-in coding agents authenticate with the user's own account:
    // the enrolled user is the principal.
    if (vk === null && policy.defaults.requireVirtualKey && facts.metered && facts.signedIn !== true) {
      const what = raw ? 'a provider API key was used directly' : 'no virtual key was sent';
      return this.refuse(
        denial('virtual_key_required', `Outpost: this organisation requires a virtual key (${what}). Ask your administrator for an Outpost virtual key and use it in place of the provider key.`, [rule('virtual-keys', 'virtual-key-required', 'deny', `${what}; the policy requires a virtual key`)]),
        null,
      );
    }
    const principal = cp.principals.resolve(vk);

    // 2. Model allow-list (the key's own list, else the policy default).
    const models = vk?.models ?? cp.defaultModels;
    if (models !== null && facts.model !== null && !models.allows(facts.model)) {
      return this.refuse(
        denial('model_not_allowed', `Outpost: model "${facts.model}" is not allowed for ${principal.id}. Allowed: ${models.patterns.join(', ')}.`, [rule('models', 'model-not-allowed', 'deny', `model ${facts.model} matches none of ${models.patterns.join(', ')}`)]),
        principal,
      );
    }

    // 3. Provider key: a virtual key in a provider credential header must be swapped (a picked key always has one).
    const providerKeyRef = vk?.providerKeys[facts.provider] ?? null;
    if (vk !== null && providerKeyRef === null && vkCredential !== null && vkCredential.location !== 'x-outpost-vk') {
      return this.refuse(
        denial('provider_key_missing', `Outpost: virtual key "${vk.id}" has no ${facts.provider} key on this device. Ask your administrator to add one to the policy.`, [rule('virtual-keys', 'provider-key-missing', 'deny', `virtual key ${vk.id} names no provider key for ${facts.provider}`)]),
        principal,
      );
    }

    // 4. Price: an unknown model is blocked or allowed-and-flagged, never a silent $0.
    const fired: FiredRule[] = [];
    const at = new Date(nowMs);
    const rates = facts.model === null || !facts.metered ? null : this.prices.rates(facts.provider, facts.model, at);
    if (rates === null && facts.metered) {
      const model = facts.model ?? '(none)';
      if (policy.pricing.unknownModel === 'block') {
        return this.refuse(denial('price_unknown', `Outpost: model "${model}" has no known price, and the policy blocks unpriced models. Use a listed model.`, [rule('pricing', 'unknown-price', 'deny', `no price for ${facts.provider}/${model} in ${this.prices.versionFor(facts.provider)}`)]), principal);
      }
      fired.push(rule('pricing', 'unknown-price', 'warn', `no price for ${facts.provider}/${model} in ${this.prices.versionFor(facts.provider)}; allowed by policy and not charged to budgets`));
    }

    // 5. Input guardrails.
    const g: GuardrailOutcome = evaluateGuardrails(cp.guardrails.input, facts.texts, 'input', policy.failMode);
    if (g.rules.length > 0) fired.push(...g.rules);
    if (g.action === 'block') {
      const by = g.blockedBy;
      const found = g.rules.find((r) => r.id === by?.id);
      const message = by?.message ?? `Outpost blocked this request: ${found?.explanation ?? 'a guardrail fired'} (rule "${by?.id ?? 'guardrails'}"). Remove it and try again.`;
      return { ok: false, denial: denial('guardrail_blocked', message, fired), principal, rules: fired };
    }

    // 5b. Credentials in the request's headers or URL.
    const meta = facts.metadata;
    let metaWarned = false;
    if (meta !== undefined && meta.length > 0 && cp.guardrails.request.length > 0) {
      const m = evaluateGuardrails(cp.guardrails.request, meta, 'request', policy.failMode);
      if (m.action === 'block' || m.action === 'redact') {
        for (const r of m.rules) fired.push(r.action === 'redact' ? { ...r, action: 'block', explanation: `${r.explanation} (a header or URL cannot be redacted in place: blocked)` } : r);
        const by = m.blockedBy ?? cp.guardrails.request.find((r) => m.rules.some((f) => f.id === r.id && f.action === 'redact')) ?? null;
        const found = m.rules.find((r) => r.id === by?.id);
        const message = by?.message ?? `Outpost blocked this request: ${found?.explanation ?? 'a guardrail fired'} (rule "${by?.id ?? 'guardrails'}"). Remove it from the request's headers or URL and try again.`;
        return { ok: false, denial: denial('guardrail_blocked', message, fired), principal, rules: fired };
      }
      if (m.rules.length > 0) fired.push(...m.rules);
      metaWarned = m.action === 'warn';
    }

    // 6. Rate limits (reserve tokens).
    const outTokens = facts.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS;
    const inTokens = estimateInputTokens(facts.promptChars);
    const estimateTokens = inTokens + outTokens;
    const rate = this.limiter.admit(principal.id, deviceShareOf(cp.rateLimitFor(principal), this.rateShare), estimateTokens, nowMs);
    if (!rate.ok) {
      fired.push(rule('rate-limits', rate.code, 'limit', `${principal.id} is over ${rate.limit}`));
      const m = `Outpost: ${principal.id} is over its limit of ${rate.limit}. Retry in ${rate.retryAfterSeconds} s.`;
      return { ok: false, denial: denial(rate.code, m, fired, rate.retryAfterSeconds), principal, rules: fired };
    }

    // 7. Budgets (reserve the estimated cost on every level).
    const estimateUsd = rates === null ? 0 : inTokens * rates.inputUsd + outTokens * rates.outputUsd;
    const budget = this.ledger.reserve(cp.budgetsFor(principal), estimateUsd, nowMs);
    if (!budget.ok) {
      this.limiter.cancel(rate);
      const l = budget.level;
      fired.push(rule(`budget:${l.id}`, 'budget-exceeded', 'limit', `${l.scope} has spent ${usd(budget.spentUsd)} of ${usd(l.limitUsd)} per ${l.period}; this request needs about ${usd(estimateUsd)}`));
      const m = `Outpost: the budget "${l.id}" (${usd(l.limitUsd)} per ${l.period} for ${l.scope}) has no room for this request. It resets at ${new Date(budget.resetsAt).toISOString()}; ask your administrator to raise it.`;
      return { ok: false, denial: denial('budget_exceeded', m, fired), principal, rules: fired, budget: { id: l.id, period: l.period, reason: budget.reason, estimateUsd } };
    }

    const decision = g.action === 'redact' ? 'redact' : g.action === 'warn' || metaWarned ? 'warn' : 'allow';
    return { ok: true, principal, vkCredential, providerKeyRef, decision, rules: fired, redacted: g.redacted, estimateTokens, estimateUsd, priced: rates !== null || !facts.metered, rate, budget };
  }

  /** Settles a finished request with its real (or estimated) usage; returns what it cost. */
  complete(grant: Grant, provider: ProviderRef, model: string | null, usage: TokenUsage, nowMs: number): Settlement {
    this.limiter.settle(grant.rate, usage.inputTokens + usage.outputTokens);
    const cost = model === null ? null : this.prices.cost(provider, model, usage, new Date(nowMs));
    this.ledger.settle(grant.budget, cost ?? 0);
    return { costUsd: cost, priceVersion: cost === null ? null : this.prices.versionFor(provider) };
  }

  /** Releases a request that failed before costing anything. */
  abandon(grant: Grant): void {
    this.limiter.settle(grant.rate, 0);
    this.ledger.release(grant.budget);
  }

  /** Counters as plain JSON (for the state store). */
  exportState(nowMs: number): GovernorState {
    return { budgets: this.ledger.exportState(), rates: this.limiter.exportState(nowMs) };
  }

  /** Restores counters saved by `exportState`. */
  importState(state: GovernorState, nowMs: number): void {
    this.ledger.importState(state.budgets, nowMs);
    this.limiter.importState(state.rates, nowMs);
  }

  /**
   * Charges requests recorded after the counters were saved (a kill -9 between saves): each admitted
   * request's cost to the budget windows, and its tokens to the rate windows, that contain its record
   * time and are current now. Refused and failed requests cost nothing and are skipped, as are
   * principals the policy no longer knows (their budget levels are unknown; their tokens still count).
   */
  replay(records: Iterable<RecordedSpend>, nowMs: number): ReplayTotals {
    const cp = this.current;
    let requests = 0;
    let costUsd = 0;
    let tokens = 0;
    for (const r of records) {
      if (r.principal === null || (r.decision !== 'allow' && r.decision !== 'redact' && r.decision !== 'warn')) continue;
      const at = Date.parse(r.time);
      const used = (r.inputTokens ?? 0) + (r.outputTokens ?? 0);
      const cost = r.costUsd ?? 0;
      if (Number.isNaN(at) || (cost <= 0 && used <= 0)) continue;
      requests++;
      if (used > 0) {
        this.limiter.charge(r.principal, used, at, nowMs);
        tokens += used;
      }
      if (cost > 0) {
        const principal = this.principalById(r.principal);
        if (principal !== null) {
          this.ledger.charge(cp.budgetsFor(principal), cost, at, nowMs);
          costUsd += cost;
        }
      }
    }
    return { requests, costUsd, tokens };
  }

  /** The principal a record names (`vk:ID` or this machine's `user:NAME`), under the policy in force. */
  private principalById(id: string): Principal | null {
    const cp = this.current;
    if (id.startsWith('vk:')) {
      const vk = cp.keys.byId(id.slice('vk:'.length));
      return vk === null ? null : cp.principals.resolve(vk);
    }
    const user = cp.principals.resolve(null);
    return user.id === id ? user : null;
  }

  private refuse(d: Denial, principal: Principal | null): Refusal {
    return { ok: false, denial: d, principal, rules: d.rules };
  }
}
