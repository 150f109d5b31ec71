/**
 * Detector registry: one factory per guardrail `type`. Adding a detector is adding an entry here
 * (and its schema branch in the policy); the pipeline never switches on types. The registry is a
 * value passed down by construction (`compileGuardrails`, `compilePolicy`, `Governor`, `createGate`
 * take one, default `DETECTORS`), so a caller can build the core with detectors of its own: the
 * tests build a gate whose detector throws, with no module mock.
 */
import type { Guardrail } from '../../schema/policy.js';
import { piiDetector } from './pii.js';
import { regexDetector } from './regex.js';
import { secretsDetector } from './secrets.js';
import type { Detector } from './types.js';

/** A detector factory per guardrail type. */
export type DetectorFactories = { readonly [T in Guardrail['type']]: (rule: Extract<Guardrail, { type: T }>) => Detector };

// One secrets detector serves every secrets rule: its compiled tables do not depend on the rule.
let sharedSecrets: Detector | null = null;

/** The one secrets detector (built on first use): every secrets rule and every scrub share it. */
export function sharedSecretsDetector(): Detector {
  return (sharedSecrets ??= secretsDetector());
}

/** The detector factories, by guardrail type. */
export const DETECTORS: DetectorFactories = {
  secrets: sharedSecretsDetector,
  pii: (rule) => piiDetector(rule.entities),
  regex: (rule) => regexDetector(rule.id, rule.pattern, rule.flags),
};

/** Builds the detector for one policy rule from `factories`. */
export function buildDetector(rule: Guardrail, factories: DetectorFactories = DETECTORS): Detector {
  const factory = factories[rule.type] as (r: Guardrail) => Detector;
  return factory(rule);
}
