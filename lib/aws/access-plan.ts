/**
 * Where each role's permissions go, decided before any construct exists so that every document is
 * measured exactly as it will be deployed:
 *
 * 1. A role whose grants fit into one managed policy gets exactly that one policy (today's output).
 * 2. Otherwise its grants are packed into several managed policies by measured size; a repository
 *    grant that several roles of the stack need identically (the pull of the build repositories
 *    every source role needs) is packed once into shared policies attached to all of them.
 * 3. A role that would need more managed policies than IAM's default quota keeps only what is not
 *    repository-scoped (the registry login, token minting, any extra statement) in its managed
 *    policies; its grants on repositories of its own stack move into those repositories' own
 *    repository policies, naming the role's exact ARN as principal. Nothing is widened.
 *
 * Anything that still does not fit is refused with one line: a limit ferry cannot split.
 */
import { UserFacingError } from '../cli-errors';
import {
  type Grant,
  MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_PACK_CHARS,
  type PolicyDocumentJson,
  type PolicyStatementJson,
  packGrants,
  policyDocument,
} from './policy-documents';

/** One role of a stack and what it may do. */
export interface RoleAccess {
  /** Construct id of the role's construct, unique in the stack (`Role`, `SourceRole-<name>`). */
  readonly id: string;
  readonly roleName: string;
  /** The role's ARN as IAM will know it: the principal of repository policies. */
  readonly roleArn: string;
  /** Name of the role's first (often only) managed policy; further ones are named by `policyName(i)`. */
  readonly policyName: (index: number) => string;
  /**
   * The role's statements in document order. Those marked `local` grant on repositories of this
   * target: packed into managed policies, or moved to repository policies. The others stay in the
   * role's managed policies as they are: the registry login, token minting, grants on repositories
   * of other stacks, and any statement another feature adds.
   */
  readonly statements: readonly RoleGrant[];
}

/** A grant, marked when it is on repositories of the role's own target. */
export interface RoleGrant extends Grant {
  readonly local?: boolean;
}

const fixedOf = (role: RoleAccess): Grant[] => role.statements.filter((g) => !g.local);
const localOf = (role: RoleAccess): Grant[] => role.statements.filter((g) => g.local);

export interface RolePlan {
  /** The role's own managed policies, first one first. */
  readonly documents: readonly { readonly name: string; readonly document: PolicyDocumentJson }[];
  /** Indexes into `AccessPlan.shared` of the shared policies attached to the role. */
  readonly shared: readonly number[];
  /** True when the role's repository grants live in repository policies instead. */
  readonly inRepositoryPolicies: boolean;
}

export interface SharedPolicy {
  readonly name: string;
  readonly document: PolicyDocumentJson;
  /** Ids of the roles it is attached to. */
  readonly roles: readonly string[];
}

export interface AccessPlan {
  readonly roles: ReadonlyMap<string, RolePlan>;
  readonly shared: readonly SharedPolicy[];
  /** Repository ARN -> the statements its repository policy holds (principal, actions; no Resource). */
  readonly repositoryStatements: ReadonlyMap<string, readonly PolicyStatementJson[]>;
  /** One line per role whose grants moved into repository policies, and why. */
  readonly notices: readonly string[];
  /** Role ARN -> role id, for the repository policies' principals. */
  readonly roleIdsByArn: ReadonlyMap<string, string>;
}

export interface AccessPlanInput {
  /** For messages: the stack the roles are in. */
  readonly stackName: string;
  readonly roles: readonly RoleAccess[];
  /** Name of the n-th (0-based) shared policy of this stack. */
  readonly sharedPolicyName: (index: number) => string;
  /** Managed policies a role may have attached. @default MANAGED_POLICIES_PER_ROLE */
  readonly maxPoliciesPerRole?: number;
  /** Packing budget per document. @default MANAGED_POLICY_PACK_CHARS */
  readonly budget?: number;
}

export function planAccess(input: AccessPlanInput): AccessPlan {
  const max = input.maxPoliciesPerRole ?? MANAGED_POLICIES_PER_ROLE;
  const budget = input.budget ?? MANAGED_POLICY_PACK_CHARS;
  const roles = new Map<string, RolePlan>();
  const notices: string[] = [];
  const crowded: RoleAccess[] = [];

  for (const role of input.roles) {
    const all = packGrants(role.statements, budget);
    if (all.length === 1) roles.set(role.id, own(role, all, [], false));
    // Packed separately, own and shared documents can need one more than packed together.
    else if (all.length + 1 <= max) crowded.push(role);
    else roles.set(role.id, moveToRepositoryPolicies(input.stackName, role, max, budget, notices));
  }

  const shared: SharedPolicy[] = [];
  const sharedOf = new Map<string, number[]>();
  const sharedKeysOf = new Map<string, Set<string>>();
  for (const group of sharedGroups(crowded)) {
    const first = shared.length;
    const ids = group.roles.map((r) => r.id);
    packGrants([group.grant], budget).forEach((document) => shared.push({ name: input.sharedPolicyName(shared.length), document, roles: ids }));
    for (const id of ids) {
      sharedOf.set(id, [...(sharedOf.get(id) ?? []), ...range(first, shared.length)]);
      sharedKeysOf.set(id, new Set([...(sharedKeysOf.get(id) ?? []), grantKey(group.grant)]));
    }
  }
  for (const role of crowded) {
    const unshared = role.statements.filter((g) => !g.local || !sharedKeysOf.get(role.id)?.has(grantKey(g)));
    roles.set(role.id, own(role, packGrants(unshared, budget), sharedOf.get(role.id) ?? [], false));
  }

  const repositoryStatements = repositoryPolicyStatements(input.roles.filter((r) => roles.get(r.id)?.inRepositoryPolicies));
  return { roles, shared, repositoryStatements, notices, roleIdsByArn: new Map(input.roles.map((r) => [r.roleArn, r.id])) };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** Repository grants that two or more roles need identically (same actions, resources and conditions), in role order. */
function sharedGroups(crowded: readonly RoleAccess[]): { grant: Grant; roles: RoleAccess[] }[] {
  const byKey = new Map<string, { grant: Grant; roles: RoleAccess[] }>();
  for (const role of crowded)
    for (const grant of localOf(role)) {
      const key = grantKey(grant);
      const group = byKey.get(key) ?? { grant, roles: [] };
      group.roles.push(role);
      byKey.set(key, group);
    }
  return [...byKey.values()].filter((g) => g.roles.length > 1);
}

function grantKey(grant: Grant): string {
  return JSON.stringify([[...new Set(grant.actions)].sort(), grant.resources, grant.conditions ?? null]);
}

function own(role: RoleAccess, documents: PolicyDocumentJson[], shared: number[], inRepositoryPolicies: boolean): RolePlan {
  return { documents: documents.map((document, i) => ({ name: role.policyName(i), document })), shared, inRepositoryPolicies };
}

function moveToRepositoryPolicies(stackName: string, role: RoleAccess, max: number, budget: number, notices: string[]): RolePlan {
  const documents = packGrants(fixedOf(role), budget);
  if (documents.length > max) {
    throw new UserFacingError(
      `${stackName}: role ${role.roleName} needs ${documents.length} managed policies even without its repository grants, over IAM's default quota of ${max} per role (ferry cannot split this further: configure fewer repositories for targets in this account, or ask AWS to raise "Managed policies per role" and report this as an issue)`,
    );
  }
  const needed = packGrants(role.statements, budget).length;
  notices.push(
    `ferry: ${stackName}: role ${role.roleName} would need ${needed} managed policies (IAM allows ${max} per role), so its grants on ${countResources(localOf(role))} repositories are in those repositories' policies, naming the role's ARN; its managed policy keeps the rest`,
  );
  return own(role, documents, [], true);
}

function countResources(grants: readonly Grant[]): number {
  return new Set(grants.flatMap((g) => g.resources)).size;
}

/**
 * Per repository, one statement per (Sid, actions) naming every role that needs it. Repository
 * policies have no Resource element: the policy applies to its own repository.
 */
function repositoryPolicyStatements(roles: readonly RoleAccess[]): Map<string, PolicyStatementJson[]> {
  const byRepository = new Map<string, Map<string, { sid: string; actions: string[]; principals: string[] }>>();
  for (const role of roles)
    for (const grant of localOf(role))
      for (const arn of grant.resources) {
        const actions = [...new Set(grant.actions)].sort();
        const statements = byRepository.get(arn) ?? new Map();
        const key = `${grant.sid} ${actions.join(',')}`;
        const statement = statements.get(key) ?? { sid: grant.sid, actions, principals: [] };
        statement.principals.push(role.roleArn);
        statements.set(key, statement);
        byRepository.set(arn, statements);
      }
  return new Map(
    [...byRepository].map(([arn, statements]) => [
      arn,
      [...statements.values()].map((s) => ({
        Action: s.actions.length === 1 ? s.actions[0] : s.actions,
        Effect: 'Allow',
        Principal: { AWS: s.principals.length === 1 ? s.principals[0] : s.principals },
        Sid: s.sid,
      })),
    ]),
  );
}

/** The repository policy document of one repository. */
export function repositoryPolicyDocument(statements: readonly PolicyStatementJson[]): PolicyDocumentJson {
  return policyDocument([...statements]);
}
