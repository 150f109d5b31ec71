/** The custom regex detector: an administrator's own pattern (compiled once per policy version). */
import { NO_FINDINGS, type Detector, type Finding } from './types.js';

/** Builds a detector for `pattern`; `ruleId` names the kind of thing found. */
export function regexDetector(ruleId: string, pattern: string, flags: string): Detector {
  const re = new RegExp(pattern, `${flags.replaceAll('g', '')}g`);
  const label = `text matching the rule "${ruleId}"`;
  return {
    scan(text) {
      re.lastIndex = 0;
      let out: Finding[] | null = null;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        (out ??= []).push({ start: m.index, end: m.index + m[0].length, kind: `regex:${ruleId}`, label });
      }
      return out ?? NO_FINDINGS;
    },
    explain: () => `text matching /${pattern}/${flags}`,
  };
}
