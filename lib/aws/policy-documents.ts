/**
 * IAM policy documents rendered exactly as they appear in the templates, measured as IAM measures
 * them, and packed into as few documents as fit.
 *
 * ferry writes these documents itself (as plain JSON on the L1 resources) instead of letting the
 * CDK render PolicyStatements: the CDK may merge and reorder statements when it renders, so a size
 * measured before synth would not be the size IAM sees. Here the measured text is the deployed text.
 */

/** IAM's limit for one customer managed policy document, whitespace excluded (IAM and STS quotas). */
export const MANAGED_POLICY_MAX_CHARS = 6_144;

/**
 * What ferry packs into one managed policy: the limit less a margin of 144 characters (about two
 * repository ARNs), so a hand edit or a longer Sid never tips a packed document over.
 */
export const MANAGED_POLICY_PACK_CHARS = 6_000;

/** IAM's limit for the description of a role or managed policy (CreatePolicy `Description`, 1,000 characters). */
export const IAM_DESCRIPTION_MAX_CHARS = 1_000;

/** IAM's default quota of managed policies attached to one role (20 on request). */
export const MANAGED_POLICIES_PER_ROLE = 10;

/** ECR's limit for a repository policy (SetRepositoryPolicy `policyText`, 10,240 characters). */
export const REPOSITORY_POLICY_MAX_CHARS = 10_240;

/** An Allow statement before rendering: the actions, on these resources, under these conditions. */
export interface Grant {
  readonly sid: string;
  readonly actions: readonly string[];
  /** Exact ARNs, or `*` for the actions IAM offers no resource type for. */
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, unknown>>;
}

export type PolicyStatementJson = Record<string, unknown>;

export interface PolicyDocumentJson {
  readonly Statement: PolicyStatementJson[];
  readonly Version: '2012-10-17';
}

/** One value as IAM's JSON has it: a single entry as a string, several as a list. */
function oneOrMany(values: readonly string[]): string | string[] {
  return values.length === 1 ? values[0] : [...values];
}

/** The statement as the template shows it: keys in the CDK's order, actions sorted and unique, resources sorted. */
export function renderStatement(grant: Grant, resources: readonly string[] = grant.resources): PolicyStatementJson {
  return {
    Action: oneOrMany([...new Set(grant.actions)].sort()),
    ...(grant.conditions ? { Condition: grant.conditions } : {}),
    Effect: 'Allow',
    Resource: oneOrMany([...resources].sort()),
    Sid: grant.sid,
  };
}

export function policyDocument(statements: PolicyStatementJson[]): PolicyDocumentJson {
  return { Statement: statements, Version: '2012-10-17' };
}

/** IAM's measure: characters of the JSON text, whitespace excluded. */
export function policyChars(document: unknown): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

/**
 * Packs the grants, in order, into as few documents as the budget allows. A grant too large for
 * the room left is split by resources across documents (never widened); a grant that does not fit
 * even alone with one resource is refused (it cannot be made smaller).
 */
export function packGrants(grants: readonly Grant[], budget: number = MANAGED_POLICY_PACK_CHARS): PolicyDocumentJson[] {
  const documents: PolicyStatementJson[][] = [];
  let current: PolicyStatementJson[] = [];
  const size = (statements: PolicyStatementJson[]) => policyChars(policyDocument(statements));
  const close = () => {
    if (current.length > 0) documents.push(current);
    current = [];
  };
  for (const grant of grants) {
    let rest = [...grant.resources];
    while (rest.length > 0) {
      const taken = largestPrefixThatFits(rest, (n) => size([...current, renderStatement(grant, rest.slice(0, n))]) <= budget);
      if (taken === 0) {
        if (current.length === 0) throw new Error(`statement ${grant.sid} does not fit into one policy of ${budget} characters even with one resource`);
        close();
        continue;
      }
      current.push(renderStatement(grant, rest.slice(0, taken)));
      rest = rest.slice(taken);
      if (rest.length > 0) close();
    }
  }
  close();
  return documents.map(policyDocument);
}

/** The largest n (0..items.length) with fits(n), for a `fits` that holds up to some n and fails beyond: a binary search. */
function largestPrefixThatFits(items: readonly unknown[], fits: (n: number) => boolean): number {
  if (fits(items.length)) return items.length;
  let low = 0;
  let high = items.length;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (fits(mid)) low = mid;
    else high = mid;
  }
  return low;
}
