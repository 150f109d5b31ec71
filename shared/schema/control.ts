/**
 * The control API's answers (agent ↔ tray app and CLI). One schema per shape, shared by the agent
 * that serves them and the clients that read them.
 */
import { z } from 'zod';

/** `GET /v1/status`. Each part reports its own section; `degraded` lists what is wrong, in words. */
export const agentStatus = z.object({
  version: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  proxy: z.object({ address: z.string(), pac: z.string() }),
  control: z.object({ address: z.string() }),
  policy: z.object({ name: z.string(), version: z.number(), source: z.string(), failMode: z.enum(['open', 'closed']) }),
  ca: z.object({
    mode: z.enum(['standalone', 'fleet']),
    caFile: z.string(),
    bundleFile: z.string(),
    keyStore: z.enum(['keychain', 'file']),
    /** True when keys fell back to a file: weaker than the OS keychain. */
    weakKeyStore: z.boolean(),
    notAfter: z.string().nullable(),
  }),
  engine: z.object({
    connections: z.number().int(),
    intercepted: z.number().int(),
    tunnelled: z.number().int(),
    blocked: z.number().int(),
    pinnedHosts: z.array(z.string()),
  }),
  audit: z.object({
    writable: z.boolean(),
    degraded: z.boolean(),
    pendingInMemory: z.number().int(),
    records: z.number().int().nullable(),
    reason: z.string().nullable(),
  }),
  degraded: z.array(z.string()),
});
export type AgentStatus = z.infer<typeof agentStatus>;

/** `<home>/runtime.json`: where a running agent listens, for `outpost env`, `status` and the tray. */
export const runtimeInfo = z.object({
  pid: z.number().int(),
  proxyUrl: z.string(),
  controlUrl: z.string(),
  caFile: z.string(),
  bundleFile: z.string(),
});
export type RuntimeInfo = z.infer<typeof runtimeInfo>;
