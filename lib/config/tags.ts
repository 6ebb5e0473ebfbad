/**
 * The tag rules every resource ferry creates must meet (ECR repositories, IAM roles, managed
 * policies and OIDC providers, and the CloudFormation stack itself), checked on the config so a
 * bad tag is one line naming the field instead of a CloudFormation validation report.
 *
 * Sources (AWS documentation):
 * - IAM User Guide, "Rules for tagging" / "Tagging IAM resources": key 1-128 and value 0-256
 *   characters; letters, digits, spaces and `_ . : / = + - @` only; keys are case-insensitive
 *   within one resource; the `aws:` prefix is reserved; at most 50 tags per resource.
 * - The general tag restrictions repeated across AWS's API references (e.g. CloudFormation's
 *   resource `Tag`): do not start keys or values with `aws:` in any case.
 * - Amazon ECR API Reference, `Tag`: key 1-128, value 0-256, same limits; ECR User Guide,
 *   "Tagging a private repository": at most 50 tags, `aws:` reserved.
 * - CloudFormation User Guide, "Tag" resource property / stack tags: at most 50, `aws:` reserved.
 * - Tagging AWS resources (General Reference), "Tag naming limits and requirements": tags with the
 *   `aws:` prefix that AWS adds itself (e.g. aws:cloudformation:stack-name) do not count toward
 *   the 50.
 */

export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
export const TAGS_PER_RESOURCE_MAX = 50;

/**
 * Tags ferry itself adds to every resource of a stack, beside the configured ones. None today:
 * the stacks carry the configured tags only. Anything added here counts toward the limit.
 */
export const FERRY_TAGS: Readonly<Record<string, string>> = {};

/** The characters IAM, ECR and CloudFormation all accept in tag keys and values. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ALLOWED = 'letters, digits, spaces and _ . : / = + - @';

/** What is wrong with a tag key, or undefined. */
export function tagKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > TAG_KEY_MAX) return `is ${key.length} characters long (a tag key has 1-${TAG_KEY_MAX} characters)`;
  if (/^aws:/i.test(key)) return 'starts with aws:, which AWS reserves for its own tags (choose another key, e.g. without the aws: prefix)';
  if (!TAG_CHARACTERS.test(key)) return `has characters AWS does not allow in tag keys: ${disallowed(key)} (allowed: ${ALLOWED})`;
  return undefined;
}

/** What is wrong with a tag value, or undefined. */
export function tagValueProblem(value: string): string | undefined {
  if (value.length > TAG_VALUE_MAX) return `is ${value.length} characters long (a tag value has at most ${TAG_VALUE_MAX} characters)`;
  if (/^aws:/i.test(value)) return 'starts with aws:, which AWS reserves in tag keys and values (choose a value without the aws: prefix)';
  if (!TAG_CHARACTERS.test(value)) return `has characters AWS does not allow in tag values: ${disallowed(value)} (allowed: ${ALLOWED})`;
  return undefined;
}

/** How many configured tags fit beside the ones ferry adds. */
export function configurableTagLimit(): number {
  return TAGS_PER_RESOURCE_MAX - Object.keys(FERRY_TAGS).length;
}

function disallowed(text: string): string {
  return [...new Set([...text].filter((c) => !TAG_CHARACTERS.test(c)))].map((c) => JSON.stringify(c)).join(' ');
}
