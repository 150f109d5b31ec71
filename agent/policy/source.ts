/**
 * Where the running policy comes from, and what happens when it changes: the policy file (watched),
 * else the last good policy kept in the store (a gateway-managed agent offline), else the embedded
 * default. An invalid new policy is refused with every problem named, and the last good one stays.
 */
import fs from 'node:fs';
import { defaultPolicy } from '../../shared/policy/default-policy.js';
import type { Policy } from '../../shared/schema/policy.js';
import { InvalidDocumentError } from '../../shared/schema/validate.js';
import type { StateStore } from '../store/state.js';
import { loadPolicyFile } from './load.js';

/** The policy in force and where it came from. */
export interface PolicyInForce {
  readonly policy: Policy;
  /** A file path, `store (last good)`, or `embedded default`. */
  readonly source: string;
  /** Set when a newer document was refused and this one kept. */
  readonly refused: string | null;
}

/** What the agent watches with. */
export interface PolicyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function lastGood(state: StateStore, log: PolicyLogger): PolicyInForce | null {
  try {
    const stored = state.lastGoodPolicy();
    return stored === null ? null : { policy: stored.policy, source: `store (last good, from ${stored.source})`, refused: null };
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'the last good policy in the store cannot be read');
    return null;
  }
}

/** Saves a validated policy as the last good one; an unwritable store is reported, not fatal. */
export function keep(state: StateStore, policy: Policy, source: string, log: PolicyLogger): void {
  try {
    state.saveLastGoodPolicy(policy, source);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot keep the policy as the last good one');
  }
}

/**
 * The policy to start with. A gateway-managed agent without a file resumes the last good policy. A
 * policy file that is invalid at start falls back to the last good
 * policy from the store when there is one (and says so); with none, the start fails with the
 * file's problems, because running the default instead would silently loosen governance.
 */
export async function initialPolicy(policyFile: string | null, managed: boolean, state: StateStore, log: PolicyLogger): Promise<PolicyInForce> {
  if (policyFile === null) {
    // A gateway-managed agent starts offline on what the gateway sent last; a standalone one on the default.
    const kept = managed ? lastGood(state, log) : null;
    return kept ?? { policy: defaultPolicy(), source: 'embedded default', refused: null };
  }
  try {
    const policy = await loadPolicyFile(policyFile);
    keep(state, policy, policyFile, log);
    return { policy, source: policyFile, refused: null };
  } catch (err) {
    if (!(err instanceof InvalidDocumentError)) throw err;
    const kept = lastGood(state, log);
    if (kept === null) throw err;
    log.error({ problems: err.problems }, `policy file ${policyFile} is invalid; keeping the last good policy`);
    return { ...kept, refused: err.message };
  }
}

/**
 * Watches the policy file and calls `apply` with each new valid version. Editors replace files
 * (rename), so the folder's events are watched and debounced; a refused version is reported through
 * `refused` and changes nothing.
 */
export function watchPolicyFile(
  policyFile: string,
  apply: (policy: Policy) => Promise<void>,
  refused: (error: InvalidDocumentError) => void,
  log: PolicyLogger,
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let lastText: string | null = null;
  const reload = async (): Promise<void> => {
    let text: string;
    try {
      text = await fs.promises.readFile(policyFile, 'utf8');
    } catch {
      return; // mid-replace; the next event brings the new file
    }
    if (text === lastText) return;
    lastText = text;
    try {
      await apply(await loadPolicyFile(policyFile));
    } catch (err) {
      if (err instanceof InvalidDocumentError) refused(err);
      else log.error({ err: (err as Error).message }, 'applying the new policy failed');
    }
  };
  void fs.promises.readFile(policyFile, 'utf8').then((t) => (lastText = t), () => undefined);
  const watcher = fs.watch(policyFile.replace(/[^/\\]+$/, '') || '.', (_event, name) => {
    if (name !== null && !policyFile.endsWith(String(name))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void reload(), 150);
  });
  watcher.on('error', (err) => log.warn({ err: err.message }, 'cannot watch the policy file'));
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
