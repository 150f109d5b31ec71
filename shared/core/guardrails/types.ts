/**
 * The guardrail detector contract. Every detector has one signature: it receives text and returns
 * what it found as data (never throws on purpose, never returns the matched text itself to anyone
 * but the redactor). The pipeline decides what a finding means (the rule's action) and what a
 * detector error means (the policy's fail mode).
 */

/** One thing a detector found: where, and what kind of thing (never the thing itself). */
export interface Finding {
  readonly start: number;
  readonly end: number;
  /** Stable kind id, e.g. `aws-access-key-id`, `email`. */
  readonly kind: string;
  /** Plain words for messages: "an AWS access key ID". */
  readonly label: string;
}

/** A detector built from one policy rule. */
export interface Detector {
  /** Scans `text`; returns findings in any order (an empty array when nothing was found). */
  scan(text: string): readonly Finding[];
  /** What this detector looks for, in plain words (for `explain` and the docs). */
  explain(): string;
}

/** A frozen empty result, so a clean scan allocates nothing. */
export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);
