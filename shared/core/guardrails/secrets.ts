/**
 * The secrets detector. Running 56 patterns over every prompt would cost 56 passes, and one big
 * alternation is slower still (the regex engine cannot skip ahead), so the scan works in two steps:
 * one pass of a literal-anchor alternation (`ghp_`, `AKIA`, `sk-`, `-----BEGIN`…) finds the few
 * places worth a look, and only there do the rules that own that anchor run, starting at most
 * `lead` characters before it. Hot path: a clean text costs two anchor passes and allocates nothing.
 */
import { NO_FINDINGS, type Detector, type Finding } from './types.js';
import { SECRET_RULES, type SecretRule } from './secret-rules.js';

interface CompiledRule {
  readonly rule: SecretRule;
  readonly re: RegExp;
  readonly lead: number;
}

interface AnchorPass {
  readonly anchors: RegExp;
  /** Anchor text (lower-cased for the case-insensitive pass) → its rules, in rule order. */
  readonly byAnchor: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly folded: boolean;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compilePass(rules: readonly SecretRule[], folded: boolean): AnchorPass | null {
  if (rules.length === 0) return null;
  const byAnchor = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const compiled: CompiledRule = { rule, re: new RegExp(rule.pattern, folded ? 'gi' : 'g'), lead: rule.lead ?? 0 };
    for (const a of rule.anchors) {
      const key = folded ? a.toLowerCase() : a;
      const list = byAnchor.get(key);
      if (list) list.push(compiled);
      else byAnchor.set(key, [compiled]);
    }
  }
  // Longer anchors first, so `sk_live_` is preferred to a shorter anchor at the same position.
  const keys = [...byAnchor.keys()].sort((a, b) => b.length - a.length);
  return { anchors: new RegExp(keys.map(escape).join('|'), folded ? 'gi' : 'g'), byAnchor, folded };
}

function scanPass(pass: AnchorPass, text: string, out: Finding[] | null): Finding[] | null {
  const anchors = pass.anchors;
  anchors.lastIndex = 0;
  let a: RegExpExecArray | null;
  while ((a = anchors.exec(text)) !== null) {
    const pos = a.index;
    const rules = pass.byAnchor.get(pass.folded ? a[0].toLowerCase() : a[0]);
    if (rules === undefined) continue;
    for (const c of rules) {
      c.re.lastIndex = Math.max(0, pos - c.lead);
      const m = c.re.exec(text);
      // The match must cover this anchor; a later one is found again from its own anchor.
      if (m === null || m.index > pos || m.index + m[0].length <= pos) continue;
      if (c.rule.validate !== undefined && !c.rule.validate(m[0])) continue;
      let start = m.index;
      const left = c.rule.extendLeft;
      if (left !== undefined) while (start > 0 && left.test(text.charAt(start - 1))) start--;
      const end = m.index + m[0].length;
      (out ??= []).push({ start, end, kind: c.rule.kind, label: c.rule.label });
      anchors.lastIndex = end;
      break;
    }
  }
  return out;
}

/** Builds the secrets detector over `rules` (all of them by default). */
export function secretsDetector(rules: readonly SecretRule[] = SECRET_RULES): Detector {
  const exact = compilePass(
    rules.filter((r) => r.caseInsensitive !== true),
    false,
  );
  const folded = compilePass(
    rules.filter((r) => r.caseInsensitive === true),
    true,
  );
  return {
    scan(text) {
      let out: Finding[] | null = null;
      if (exact !== null) out = scanPass(exact, text, out);
      if (folded !== null) out = scanPass(folded, text, out);
      return out ?? NO_FINDINGS;
    },
    explain: () => `credentials in ${rules.length} formats (cloud, source hosting, AI provider and SaaS keys, private keys, tokens, passwords)`,
  };
}
