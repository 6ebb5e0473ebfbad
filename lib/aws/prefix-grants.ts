/**
 * What a role may do under the repository prefixes (repository prefix mode), kept apart from the
 * grants on exact repositories: the target stack appends these statements to the role's grants
 * (kept in its managed policies as they are, never moved to repository policies: the
 * repositories do not exist yet) and acknowledges each prefix wildcard by its ARN.
 *
 * A first push into a missing repository is a push that ECR turns into a repository creation
 * (create on push): the pushing principal needs `ecr:CreateRepository` on the new repository, and
 * `ecr:TagResource` when the creation template tags it (tag-on-create is authorized on the caller).
 */
import { ECR_LIST_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from './irsa-role';
import type { Grant } from './policy-documents';

export const ECR_CREATE_ACTION = 'ecr:CreateRepository';
export const ECR_TAG_ACTION = 'ecr:TagResource';

/** Statements for the repositories under some prefixes, and their ARNs (`repository/<prefix>/*`). */
export interface PrefixGrant {
  readonly arns: readonly string[];
  readonly statements: readonly Grant[];
}

export interface PrefixPushOptions {
  /** Also list tags (`ferry sync`). @default false */
  readonly listTags?: boolean;
  /** The creation templates tag the repositories they create. @default false */
  readonly tagged?: boolean;
}

/** Push into the prefixes, creating a repository on its first push. Empty when there are no prefixes. */
export function prefixPushGrant(arns: readonly string[], opts: PrefixPushOptions = {}): PrefixGrant | undefined {
  if (arns.length === 0) return undefined;
  return {
    arns,
    statements: [
      { sid: 'PushUnderPrefix', actions: [...ECR_PUSH_ACTIONS, ...(opts.listTags ? [ECR_LIST_ACTION] : [])], resources: [...arns] },
      { sid: 'CreateOnPushUnderPrefix', actions: [ECR_CREATE_ACTION, ...(opts.tagged ? [ECR_TAG_ACTION] : [])], resources: [...arns] },
    ],
  };
}

/** Pull from the prefixes and list their tags: a push step's read of the build registry. */
export function prefixPullGrant(arns: readonly string[]): PrefixGrant | undefined {
  if (arns.length === 0) return undefined;
  return { arns, statements: [{ sid: 'PullUnderPrefix', actions: [...ECR_PULL_ACTIONS, ECR_LIST_ACTION], resources: [...arns] }] };
}

/** Several grants as one (a role that both pushes and pulls under prefixes). */
export function combineGrants(...grants: (PrefixGrant | undefined)[]): PrefixGrant | undefined {
  const present = grants.filter((g): g is PrefixGrant => g !== undefined);
  if (present.length === 0) return undefined;
  return { arns: [...new Set(present.flatMap((g) => g.arns))], statements: present.flatMap((g) => g.statements) };
}
