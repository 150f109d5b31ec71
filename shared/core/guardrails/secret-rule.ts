/** The shape of one secret-detection rule (the rules live in secret-rules.ts). */

/** One credential format. */
export interface SecretRule {
  /** Stable id, reported as the finding's kind. */
  readonly kind: string;
  /** Plain words: "a GitHub personal access token". */
  readonly label: string;
  readonly pattern: string;
  /**
   * Literal strings of at least 3 characters every match contains (matched case-insensitively for
   * case-insensitive rules). The scanner looks for anchors first and runs the rule only around them.
   */
  readonly anchors: readonly string[];
  /** How far before its anchor a match may start (0: the match starts at the anchor). */
  readonly lead?: number;
  /** Case-insensitive patterns (keyword assignments) go into a second scanner. */
  readonly caseInsensitive?: boolean;
  /** Extra check on the matched text (checksums, entropy) to keep false positives down. */
  readonly validate?: (match: string) => boolean;
  /** Characters before the match that belong to the secret (patterns anchored on an inner literal). */
  readonly extendLeft?: RegExp;
}
