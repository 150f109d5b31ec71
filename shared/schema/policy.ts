/**
 * The policy document, as an administrator writes it (`examples/policy.json` is the
 * published form and must stay valid). One schema per shape: every type below is `z.infer`red.
 * Objects are strict, so a misspelled field is an error instead of a silently ignored rule.
 */
import { z } from 'zod';
import { GATEWAY_SECRET_REF, hostPattern, period, positiveInt, SECRET_REF, usd } from './common.js';
import { customProvider, providerRef } from './custom-provider.js';
import { mcpPolicy } from './mcp.js';
import { inventoryDecisions } from './inventory.js';

/** Who a rule applies to: `org`, `team:NAME`, `user:EMAIL`, `device:ID`, `vk:ID`. */
export const principalRef = z
  .string()
  .regex(/^(org|team:[^\s:]+|user:[^\s:]+|device:[^\s:]+|vk:[^\s:]+)$/, {
    message: 'expected "org", "team:NAME", "user:EMAIL", "device:ID" or "vk:ID"',
  });

export const rateLimit = z.strictObject({
  requestsPerMinute: positiveInt.optional(),
  tokensPerMinute: positiveInt.optional(),
  tokensPerDay: positiveInt.optional(),
  concurrent: positiveInt.optional(),
  /**
   * `device` (the default): each device enforces the limits on its own. `fleet`: the limits hold
   * across every device of a central gateway: each enforces its share (`rate.share`, an equal split
   * among the connected devices; at least 1 of each limit per device).
   */
  scope: z.enum(['device', 'fleet']).optional(),
});
export type RateLimit = z.infer<typeof rateLimit>;

export const budget = z.strictObject({
  limitUsd: usd,
  period,
});
export type Budget = z.infer<typeof budget>;

/** A budget that applies to an org, team or user (virtual keys carry their own `budget`). */
export const scopedBudget = budget.extend({
  id: z.string().min(1),
  scope: principalRef,
});
export type ScopedBudget = z.infer<typeof scopedBudget>;

/** A model name or glob (`gpt-4.1*`, `claude-*`). */
const modelPattern = z.string().min(1).regex(/^[A-Za-z0-9._:/*@-]+$/, 'expected a model name, optionally with "*"');

/** Where a provider key comes from: the OS keychain entry set by `outpost secret set NAME`. */
const secretRef = z.string().regex(SECRET_REF, 'expected "keychain:NAME"');
/** A provider key: in the device's keychain, or held by the central gateway (gateway mode). */
const providerKeyRef = z.string().refine((s) => SECRET_REF.test(s) || GATEWAY_SECRET_REF.test(s), 'expected "keychain:NAME" (a key on the device) or "gateway:NAME" (a key the central gateway holds)');

export const providerId = z.enum([
  'openai',
  'azure-openai',
  'anthropic',
  'gemini',
  'mistral',
  'groq',
  'openrouter',
  'xai',
  'deepseek',
  'together',
  'perplexity',
  // Coding agents' own backends, signed in with the user's account (a subscription, not an API key).
  'github-copilot',
  'openai-codex',
  'gemini-code-assist',
  // Enterprise clouds: Google Vertex AI (Gemini and Anthropic models).
  'vertex-ai',
  // AWS Bedrock runtime.
  'bedrock',
  // Connect/protobuf: recorded per call at host level, its prompts not read (shared/providers/opaque.ts).
  'cursor',
]);
export type ProviderId = z.infer<typeof providerId>;

export const virtualKey = z
  .strictObject({
    id: z.string().min(1),
    /** The key in plain form (standalone policy files only). */
    key: z.string().min(8, 'a virtual key needs at least 8 characters').optional(),
    /** Hex SHA-256 of the key: all the central gateway ever distributes. */
    keySha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits').optional(),
    owner: principalRef,
    allowedModels: z.array(modelPattern).optional(),
    /**
     * Provider id (built-in, or a custom provider of this policy) → the key to inject: `keychain:NAME`
     * on the device, or `gateway:NAME`: the request goes through the central gateway, which injects
     * the key it holds (the key never reaches the device).
     */
    providerKeys: z.record(providerRef, providerKeyRef).optional(),
    rateLimit: rateLimit.optional(),
    budget: budget.optional(),
    revoked: z.boolean().default(false),
  })
  .refine((vk) => (vk.key === undefined) !== (vk.keySha256 === undefined), {
    message: 'a virtual key needs exactly one of "key" or "keySha256"',
  });
export type VirtualKey = z.infer<typeof virtualKey>;

export const guardrailTarget = z.enum(['input', 'output']);
export const guardrailAction = z.enum(['block', 'redact', 'warn', 'log']);
export type GuardrailAction = z.infer<typeof guardrailAction>;

const guardrailCommon = {
  id: z.string().min(1),
  on: z.array(guardrailTarget).min(1).default(['input']),
  action: guardrailAction,
  /** What the user is told when this rule fires (never includes what was found). */
  message: z.string().min(1).optional(),
};

export const PII_ENTITIES = ['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ipv4'] as const;

const regexFlags = z.string().regex(/^[imsu]*$/, 'expected regex flags from "i", "m", "s", "u"').default('');

export const guardrail = z.discriminatedUnion('type', [
  z.strictObject({ ...guardrailCommon, type: z.literal('secrets') }),
  z.strictObject({
    ...guardrailCommon,
    type: z.literal('pii'),
    entities: z.array(z.enum(PII_ENTITIES)).min(1).default([...PII_ENTITIES]),
  }),
  z
    .strictObject({ ...guardrailCommon, type: z.literal('regex'), pattern: z.string().min(1), flags: regexFlags })
    .superRefine((g, ctx) => {
      try {
        new RegExp(g.pattern, g.flags);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `the pattern does not compile: ${(err as Error).message}`,
        });
      }
    }),
]);
export type Guardrail = z.infer<typeof guardrail>;

/**
 * What happens when governance itself cannot decide (a detector throws, the store cannot record, the
 * gate fails): `open` lets the traffic through, audited as such; `closed` refuses it.
 */
export const failMode = z.enum(['open', 'closed']);
/** The one fail-mode type: policy, gate, guardrails, audit log, PAC and status all use it. */
export type FailMode = z.infer<typeof failMode>;

export const policy = z
  .strictObject({
    version: z.number().int().positive(),
    name: z.string().min(1),
    interception: z
      .strictObject({
        /** Hosts decrypted and governed. */
        hosts: z.array(hostPattern).default([]),
        /** AI hosts the organisation does not approve (shadow AI): the CONNECT is refused. */
        blockedHosts: z.array(hostPattern).default([]),
        /** Hosts never decrypted even if listed above (pinned apps): bytes are tunnelled. */
        bypassHosts: z.array(hostPattern).default([]),
        /**
         * A client that rejects the agent's certificate (it pins its provider's): `tunnel-and-report`
         * tunnels that client alone (its process or TLS fingerprint, never the whole host) for a while
         * and audits each connection; `block` refuses it. Under `failMode: "closed"` it is always refused.
         */
        pinnedClients: z.enum(['tunnel-and-report', 'block']).default('tunnel-and-report'),
        /**
         * The names of one connection disagree (the CONNECT host and the TLS server name, or the
         * server name and the HTTP Host): `stricter` treats it as the stricter of the two (block, then
         * intercept, then tunnel); `block` refuses it when either name is governed. Always audited.
         */
        nameMismatch: z.enum(['stricter', 'block']).default('stricter'),
        /** A CONNECT to an IP address whose client names no server (no SNI): `tunnel` or `block`. Audited. */
        noServerName: z.enum(['tunnel', 'block']).default('tunnel'),
      })
      .prefault({}),
    failMode: failMode.default('open'),
    /**
     * Whether the person at the machine may pause interception from the tray (`POST /v1/pause`), and
     * for how long at most. While paused, AI hosts are tunnelled untouched (not governed, not
     * recorded); it ends by itself. Off unless the administrator allows it.
     */
    pause: z.strictObject({ allowed: z.boolean().default(false), maxMinutes: z.number().int().min(1).max(1440).default(60) }).prefault({}),
    /**
     * AI apps and MCP servers this device allows or refuses (by catalog id, or an MCP server's
     * `host:NAME` / inventory key), and how undecided ones are treated. An enrolled device follows
     * its gateway's decisions instead.
     */
    inventory: inventoryDecisions.prefault({}),
    /** Custom AI hosts speaking a known API (custom-provider.ts); their hosts are intercepted. */
    providers: z.array(customProvider).default([]),
    virtualKeys: z.array(virtualKey).default([]),
    /** Team membership, for budgets and limits scoped to a team. */
    teams: z.record(z.string().min(1), z.array(principalRef)).default({}),
    budgets: z.array(scopedBudget).default([]),
    defaults: z
      .strictObject({
        requireVirtualKey: z.boolean().default(false),
        allowedModels: z.array(modelPattern).optional(),
        rateLimit: rateLimit.optional(),
        budget: budget.optional(),
      })
      .prefault({}),
    pricing: z
      .strictObject({
        /** A model with no known price: `block` it, or `allow` it and flag the audit record. Never a silent $0. */
        unknownModel: z.enum(['block', 'allow']).default('allow'),
      })
      .prefault({}),
    guardrails: z.array(guardrail).default([]),
    /**
     * AWS Bedrock: `resignWith` names device credentials (`keychain:NAME`, a secret holding JSON
     * `{ "accessKeyId", "secretAccessKey", "sessionToken"? }`) with which the agent re-signs a
     * request it had to change (a redaction). Without them such a request is blocked: the client's
     * SigV4 signature covers the body.
     */
    bedrock: z.strictObject({ resignWith: secretRef.optional() }).prefault({}),
    /** Remote MCP servers and their tool rules (mcp.ts); listed servers' hosts are intercepted. */
    mcp: mcpPolicy.prefault({}),
    audit: z
      .strictObject({
        recordPrompts: z.enum(['none', 'redacted', 'full']).default('redacted'),
        retentionDays: positiveInt.default(30),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, number>();
    p.virtualKeys.forEach((vk, i) => {
      const first = seen.get(vk.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['virtualKeys', i, 'id'], message: `duplicate virtual key id "${vk.id}" (also at virtualKeys[${first}])` });
      }
      seen.set(vk.id, i);
    });
    const ids = new Map<string, number>();
    p.guardrails.forEach((g, i) => {
      const first = ids.get(g.id);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['guardrails', i, 'id'], message: `duplicate guardrail id "${g.id}" (also at guardrails[${first}])` });
      }
      ids.set(g.id, i);
    });
    checkProviders(p, ctx);
  })
  // A custom provider's hosts, and a listed MCP server's, are intercepted by declaring it: every consumer of
  // `interception.hosts` (classifier, CA name constraints, PAC, the gateway's fleet CA) sees them.
  .transform((p) => {
    const own = [...p.providers.flatMap((c) => c.hosts), ...p.mcp.servers.map((s) => new URL(s.url).hostname.toLowerCase())];
    if (own.length === 0) return p;
    return { ...p, interception: { ...p.interception, hosts: [...new Set([...p.interception.hosts, ...own])] } };
  });

/** Custom providers: unique ids that are not built-in ones, a host in one provider only, and `providerKeys` naming known providers. */
function checkProviders(
  p: { providers: ReadonlyArray<{ id: string; hosts: readonly string[] }>; virtualKeys: ReadonlyArray<{ providerKeys?: Record<string, string> | undefined }> },
  ctx: z.RefinementCtx,
): void {
  const builtIn = new Set<string>(providerId.options);
  const ids = new Map<string, number>();
  const hosts = new Map<string, string>();
  p.providers.forEach((c, i) => {
    if (builtIn.has(c.id)) ctx.addIssue({ code: 'custom', path: ['providers', i, 'id'], message: `"${c.id}" is a built-in provider: give the custom provider its own id` });
    const first = ids.get(c.id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['providers', i, 'id'], message: `duplicate provider id "${c.id}" (also at providers[${first}])` });
    ids.set(c.id, i);
    c.hosts.forEach((h, j) => {
      const owner = hosts.get(h);
      if (owner !== undefined && owner !== c.id) ctx.addIssue({ code: 'custom', path: ['providers', i, 'hosts', j], message: `host "${h}" already belongs to provider "${owner}"` });
      hosts.set(h, c.id);
    });
  });
  p.virtualKeys.forEach((vk, i) => {
    for (const name of Object.keys(vk.providerKeys ?? {})) {
      if (!builtIn.has(name) && !ids.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['virtualKeys', i, 'providerKeys', name], message: `unknown provider "${name}": expected a built-in provider (${providerId.options.join(', ')}) or the id of one of the policy's providers` });
      }
    }
  });
}

/** A validated policy with every default filled in. */
export type Policy = z.infer<typeof policy>;
/** A policy as written, before defaults. */
export type PolicyInput = z.input<typeof policy>;
