/**
 * Pure: what each of the agent's degraded reasons (`GET /v1/status`, `degraded`) means for the person
 * at the computer. The agent writes its reasons for IT (paths, versions, commands); the check-up and
 * the diagnostics report keep them whole. Shared by the window and the tray menu.
 *
 * Every reason the agent can give (agent/agent.ts `status()`, agent/sync/fleet-commands.ts
 * `describe()`) has a line here; the unit test walks one sample of each.
 */
const PLAIN_REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^audit:/, 'Outpost cannot save its activity log right now.'],
  [/^CA key in a file/, 'Outpost’s security key is kept in a file instead of this computer’s keychain.'],
  [/^the key of the previous CA root/, 'Outpost had to make a new security certificate; some apps may need to trust it again.'],
  [/policy was refused|signed policy v\d+ was refused/, 'Your company sent a policy Outpost could not use, so it keeps the last good one.'],
  [/^gateway: an administrator paused interception/, 'Your IT team paused Outpost’s checks on this computer; AI traffic passes without checks.'],
  [/^gateway: an administrator blocked all AI traffic/, 'Your IT team has blocked AI services on this computer for now.'],
  [/^gateway: this device was revoked/, 'Your IT team removed this computer from your company’s Outpost.'],
  [/^gateway: (a gateway is configured but this device is not enrolled|not enrolled with)/, 'This computer is not connected to your company’s Outpost yet; your IT team needs to finish setting it up.'],
  [/^gateway: cannot open the keychain/, 'Outpost cannot read its company sign-in from this computer’s keychain.'],
  [/^gateway:/, 'Outpost has a problem with its link to your company; it keeps protecting you with the last policy.'],
  [/^CA cannot sign/, 'Some AI services cannot be checked, so Outpost stops requests to them.'],
  [/not trusted yet/, 'Some apps do not trust Outpost’s new certificate yet.'],
  [/^transparent door/, 'Outpost cannot see where some redirected connections were going.'],
  [/^gate: internal failure/, 'Outpost hit an internal problem while checking a request.'],
];

/** A degraded reason in plain words; an unknown one (a newer agent) is said generically, never raw. */
export function plainReason(reason: string): string {
  for (const [pattern, text] of PLAIN_REASONS) if (pattern.test(reason)) return text;
  return 'Outpost found a problem; a check-up tells you more.';
}
