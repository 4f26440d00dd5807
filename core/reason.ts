/**
 * A `reason` that justifies an exception to a guard (wide egress, a dangerous Kubernetes API
 * grant): words, not a placeholder. At least REASON_MIN_LENGTH characters between the first and
 * the last non-blank one, and at least two words, so `" "`, `"x"`, `"n/a"` or `"todo"` never
 * pass, and no invisible format character (a zero-width space) fills one out. The same pattern is the JSON Schema's (config/schema.ts), so the loader refuses a blank
 * reason with its file and line, and the checks over synthesized objects apply it again.
 */
export const REASON_MIN_LENGTH = 12;

/** JSON Schema `pattern` (also a JavaScript RegExp) of a meaningful reason. */
export const REASON_PATTERN = [
  '^',
  // no invisible format characters (zero-width spaces and joiners, bidirectional controls, soft hyphens)
  '(?![\\s\\S]*[\\u00AD\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\uFEFF])',
  // two words of letters or digits, apart
  '(?=[\\s\\S]*[A-Za-z0-9]{2}[\\s\\S]*\\s[\\s\\S]*[A-Za-z0-9]{2})',
  `(?=[\\s\\S]*\\S\\s+\\S)\\s*\\S[\\s\\S]{${REASON_MIN_LENGTH - 2},}\\S\\s*$`,
].join('');

const REASON = new RegExp(REASON_PATTERN);

/** Whether `text` is a reason in words (not missing, blank, or a one-word placeholder). */
export function isReason(text: unknown): text is string {
  return typeof text === 'string' && REASON.test(text);
}

/** What the schema and the checks say a reason must be. */
export const REASON_ALLOWED = `a reason in words: at least ${REASON_MIN_LENGTH} characters and two words, not blank`;
