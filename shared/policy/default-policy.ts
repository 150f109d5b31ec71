/**
 * The policy the agent runs when no policy file and no central gateway are configured: the common
 * AI hosts intercepted, credentials blocked, personal data redacted, prompts audited redacted, no
 * budgets and no virtual keys required. Validated through the same schema as any other policy.
 */
import { policy, type Policy, type PolicyInput } from '../schema/policy.js';

/** Hosts of the AI providers and web apps intercepted out of the box (see FIELD-NOTES "Hosts"). */
export const DEFAULT_AI_HOSTS = [
  'api.openai.com',
  'chatgpt.com',
  'api.anthropic.com',
  'claude.ai',
  'generativelanguage.googleapis.com',
  'gemini.google.com',
  '*.openai.azure.com',
  'api.mistral.ai',
  'api.x.ai',
  'api.groq.com',
  'openrouter.ai',
  'api.together.xyz',
  'api.perplexity.ai',
  'api.deepseek.com',
  // Coding agents' own backends: GitHub Copilot (api. and the plan hosts api.business. and
  // api.enterprise.), Gemini CLI / Code Assist signed in with Google, Cursor. Codex signed in with
  // ChatGPT calls chatgpt.com, already listed.
  '*.githubcopilot.com',
  'cloudcode-pa.googleapis.com',
  'api2.cursor.sh',
] as const;

const DEFAULT_POLICY_INPUT: PolicyInput = {
  version: 1,
  name: 'outpost-default',
  interception: { hosts: [...DEFAULT_AI_HOSTS], blockedHosts: [], bypassHosts: [] },
  failMode: 'open',
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' },
  ],
  audit: { recordPrompts: 'redacted', retentionDays: 30 },
};

/** A fresh copy of the embedded default policy. */
export function defaultPolicy(): Policy {
  return policy.parse(DEFAULT_POLICY_INPUT);
}
