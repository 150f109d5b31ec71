/**
 * `outpost demo`: the newcomer's first five minutes. One command, no keys, no internet: it starts a
 * local fake OpenAI (HTTPS, its certificate from the demo's own CA), the real interception engine
 * with the real gateway core in front of it, sends a handful of requests through the proxy like any
 * SDK would, and prints what happened to each and why, then the audit records.
 *
 * The agent is the real one (`startAgent`, as `outpost start` runs it: CA, gate, engine, SQLite
 * audit) in a temporary home (CA key in a file there, no OS trust store touched), removed at the end.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SecureContext } from 'node:tls';
import type { Command } from 'commander';
import { ProxyAgent, request } from 'undici';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../agent.js';
import { verifyChain } from '../audit/verify.js';
import { resolveAgentConfig } from '../config/load.js';
import { secretEntry } from '../secrets/resolve.js';
import { agentConfig } from '../../shared/schema/config.js';
import { policy as policySchema } from '../../shared/schema/policy.js';
import type { AuditEntry } from '../../shared/schema/audit.js';

const VK = 'ovk-demo-7f3a9c2e51';
const VK_INTERN = 'ovk-intern-0b8d4e6a2c';
const PROVIDER_KEY = 'sk-demo-provider-key-kept-in-the-keychain';

/** The demo policy: one AI host, two virtual keys, secrets blocked, personal data redacted. */
const DEMO_POLICY = policySchema.parse({
  version: 1,
  name: 'outpost-demo',
  interception: { hosts: ['api.openai.com'] },
  virtualKeys: [
    { id: 'vk-eng', key: VK, owner: 'team:engineering', allowedModels: ['gpt-4o-mini', 'gpt-4.1*'], providerKeys: { openai: 'keychain:openai-demo' }, budget: { limitUsd: 5, period: '1M' } },
    { id: 'vk-intern', key: VK_INTERN, owner: 'user:intern@acme.example', allowedModels: ['gpt-4o-mini'], providerKeys: { openai: 'keychain:openai-demo' }, budget: { limitUsd: 0.0001, period: '1d' } },
  ],
  guardrails: [
    { id: 'secrets', type: 'secrets', on: ['input'], action: 'block' },
    { id: 'pii', type: 'pii', on: ['input', 'output'], action: 'redact' },
  ],
  audit: { recordPrompts: 'redacted' },
});

/** A fake OpenAI chat endpoint that echoes the prompt it received (so redaction is visible). */
function fakeOpenAi(contextFor: (host: string) => SecureContext | Promise<SecureContext>, seen: string[]): Server {
  const server = createServer(
    {
      SNICallback: (name, cb) => {
        Promise.resolve(contextFor(name)).then(
          (ctx) => cb(null, ctx),
          (err: Error) => cb(err),
        );
      },
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string; stream?: boolean; messages?: Array<{ content?: string }> };
        const prompt = body.messages?.at(-1)?.content ?? '';
        seen.push(`${String(req.headers.authorization)} | ${prompt}`);
        const text = `You said: ${prompt}`;
        const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: Math.ceil(text.length / 4), total_tokens: 0 };
        if (body.stream === true) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          for (const piece of text.match(/.{1,12}/g) ?? []) res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
          if ((body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage === true) res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', model: body.model, choices: [], usage })}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'chat.completion', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage }));
      });
    },
  );
  return server;
}

interface Step {
  readonly title: string;
  readonly key: string;
  readonly body: object;
}

function steps(): Step[] {
  // Built at run time so this file holds no literal credential.
  const awsKey = `AKIA${'IOSFODNN7'}${'DEMOKEY'}`;
  return [
    { title: 'an ordinary request', key: VK, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Write a haiku about lighthouses.' }] } },
    { title: 'personal data in the prompt', key: VK, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Reply to jane.doe@acme.example and call her on (415) 555-0100.' }] } },
    { title: 'a cloud credential in the prompt', key: VK, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Why does boto3 reject aws_access_key_id=${awsKey}?` }] } },
    { title: 'a model the key may not use', key: VK_INTERN, body: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'hello' }] } },
    { title: 'a request over its budget', key: VK_INTERN, body: { model: 'gpt-4o-mini', max_tokens: 4000, messages: [{ role: 'user', content: 'Summarise our roadmap.' }] } },
    { title: 'a stream (usage asked for by the agent, hidden from the client)', key: VK, body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Count to five.' }] } },
  ];
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function shortAudit(e: AuditEntry): string {
  const cost = e.costUsd === null ? 'cost -' : `$${e.costUsd.toFixed(6)}${e.tokensEstimated ? ' (estimated)' : ''}`;
  const rules = e.rules.map((r) => `${r.id}:${r.kind}`).join(',') || '-';
  return `${e.time} ${e.decision.padEnd(6)} ${String(e.status ?? '-').padEnd(4)} ${(e.principal ?? '-').padEnd(14)} ${(e.model ?? '-').padEnd(12)} rules=${rules} tokens=${e.inputTokens ?? '-'}/${e.outputTokens ?? '-'} ${cost}\n    prompt: ${e.prompt ?? '-'}`;
}

/** Runs the demo, writing to `out`. */
export async function runDemo(out: (line: string) => void): Promise<void> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'outpost-demo-'));
  const seen: string[] = [];
  // The fake provider's certificate comes from the agent's own CA, known once the agent runs.
  let certificates: ((host: string) => SecureContext | Promise<SecureContext>) | null = null;
  const server = fakeOpenAi((h) => (certificates as NonNullable<typeof certificates>)(h), seen);
  let agent: RunningAgent | null = null;
  let client: ProxyAgent | null = null;
  try {
    out('Outpost demo: a fake OpenAI on this machine, the agent in front of it, no keys, no internet.\n');
    const port = await listen(server);
    await fs.writeFile(path.join(home, 'policy.json'), JSON.stringify(DEMO_POLICY));
    const config = agentConfig.parse({
      home,
      policyFile: 'policy.json',
      ca: { keyStore: 'file' },
      proxy: { port: 0 },
      control: { port: 0 },
      upstream: { resolve: { 'api.openai.com': `127.0.0.1:${port}` }, caFile: 'ca/root.pem' },
      log: { level: 'silent' },
    });
    agent = await startAgent(resolveAgentConfig(config, home, null, {}), { logger: pino({ level: 'silent' }), userHome: home });
    const source = agent.ca.source;
    certificates = (h) => source.secureContext(h);
    // What `outpost secret set openai-demo` does: the provider key goes to the keychain (here the
    // demo home's file store), never into the policy.
    await agent.ca.keychain.set(secretEntry('openai-demo'), PROVIDER_KEY);
    out(`  agent proxy     ${agent.proxy.url}  (clients use HTTPS_PROXY=${agent.proxy.url})`);
    out(`  fake provider   https://api.openai.com → 127.0.0.1:${port}`);
    out(`  policy          "${DEMO_POLICY.name}": secrets blocked, personal data redacted, budgets per key\n`);
    client = new ProxyAgent({ uri: agent.proxy.url, requestTls: { ca: [await fs.readFile(agent.ca.caFile, 'utf8')] } });

    let i = 0;
    for (const step of steps()) {
      i++;
      const before = seen.length;
      const res = await request('https://api.openai.com/v1/chat/completions', {
        dispatcher: client,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${step.key}` },
        body: JSON.stringify(step.body),
      });
      const text = await res.body.text();
      const decision = String(res.headers['x-outpost-decision'] ?? '');
      out(`${i}. ${step.title}`);
      out(`   → HTTP ${res.statusCode}, x-outpost-decision: ${decision}`);
      if (res.statusCode >= 400) {
        const msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
        out(`   the client's SDK shows: ${msg}`);
        out(`   the provider received: ${seen.length > before ? seen.slice(before).join('; ') : 'nothing (it never left the machine)'}`);
      } else {
        const answer = text.startsWith('data:')
          ? text
              .split('\n\n')
              .filter((e) => e.startsWith('data: {'))
              .map((e) => (JSON.parse(e.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '')
              .join('')
          : ((JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '');
        out(`   the provider received: ${seen.slice(before).join('; ').replace(PROVIDER_KEY, '<provider key from the keychain>')}`);
        out(`   the client got: ${answer}`);
      }
      out('');
    }
    agent.store.audit.flushNow();
    out(`Audit records in ${agent.store.file} (one per request; secrets and personal data never stored):`);
    for (const e of agent.store.audit.recordsAfter(0)) out(`  ${shortAudit(e)}`);
    const chain = verifyChain(agent.store.audit.connection());
    out(`\nThe hash chain ${chain.ok ? `verifies (${chain.checked} records)` : `is BROKEN: ${chain.problem?.message ?? ''}`}: what \`outpost audit verify\` checks.`);
    out('The virtual keys never reached the provider; it saw only the key the agent swapped in.');
  } finally {
    await client?.close();
    await agent?.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(home, { recursive: true, force: true });
  }
}

/** Adds `demo` to the command tree. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('a self-contained demonstration: a local fake provider and the agent, requests allowed, redacted and blocked, then the audit')
    .action(async () => {
      await runDemo((line) => process.stdout.write(`${line}\n`));
    });
}
