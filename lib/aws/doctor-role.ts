/**
 * The read-only identity `ferry doctor` reads an account with: one role `ferry-doctor` per account,
 * in a stack of its own that every stack of the account deploys after, trusted by the account's own
 * principals (users assume it from their profile), with customer-managed policies (as many as the
 * exact ARNs need, packed by measured size) that may read exactly what ferry's stacks of that
 * account create.
 *
 * A role of its own rather than read actions on the pushers: the pushers are assumed by pods, and
 * every permission they hold is one a compromised build step holds too; the doctor runs as a person
 * at a workstation. A role also lets an organisation grant "may check ferry" without "may deploy".
 *
 * The policy is written after every stack of the app exists (`addDoctorRoles`), from what the app
 * contains (each role, managed policy, repository, creation template and stack of the account), so
 * a stack added later, a second managed policy or a new repository is covered without naming it here.
 */
import { type App, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import type { FerryConfig, Target } from '../config/model';
import * as naming from '../config/naming';
import { arnPrefix } from '../config/partitions';
import { type Grant, MANAGED_POLICIES_PER_ROLE, type PolicyDocumentJson, packGrants, policyDocument } from './policy-documents';
import { providerPlans } from './providers';
import { tagStack, targetStackProps } from './target-stack';
import { managedPolicy } from './web-identity-role';

/** Reads of a deployed stack (the template compared with cdk.out). */
export const DOCTOR_STACK_ACTIONS = ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'] as const;
/** Reads of a role: trust policy, boundary, attached and inline policies. */
export const DOCTOR_ROLE_ACTIONS = ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:GetRolePolicy'] as const;
/** Reads of a customer-managed policy's current document. */
export const DOCTOR_POLICY_ACTIONS = ['iam:GetPolicy', 'iam:GetPolicyVersion'] as const;
export const DOCTOR_PROVIDER_ACTION = 'iam:GetOpenIDConnectProvider';
/** Reads of a repository's settings, lifecycle policy and repository policy. */
export const DOCTOR_REPOSITORY_ACTIONS = ['ecr:DescribeRepositories', 'ecr:GetLifecyclePolicy', 'ecr:GetRepositoryPolicy'] as const;
/** Account-level reads without an IAM resource type: granted on "*". */
export const DOCTOR_OUTBOUND_ACTION = 'iam:GetOutboundWebIdentityFederationInfo';
export const DOCTOR_CREATION_TEMPLATE_ACTION = 'ecr:DescribeRepositoryCreationTemplates';

export interface DoctorRoleProps {
  /** IAM path of the role and its policy. @default '/' */
  readonly path?: string;
  /** Stack ARNs (`.../stack/<name>/*`) the doctor compares with cdk.out. */
  readonly stackArns: readonly string[];
  readonly roleArns: readonly string[];
  readonly policyArns: readonly string[];
  /** The ARN of the doctor's own n-th (0-based) managed policy: it reads those too. */
  readonly ownPolicyArn: (index: number) => string;
  readonly providerArns: readonly string[];
  readonly repositoryArns: readonly string[];
  /** The account has repository creation templates (read with DescribeRepositoryCreationTemplates). @default false */
  readonly creationTemplates?: boolean;
  /** The account is the build account of an outbound-federation destination. @default false */
  readonly outboundFederation?: boolean;
  /** Permissions boundary of the role. @default - none */
  readonly permissionsBoundaryArn?: string;
}

export class DoctorRole extends Construct {
  readonly role: iam.Role;
  /** The role's managed policies, first one first. */
  readonly policies: readonly Construct[];
  /**
   * True when the repository reads did not fit into IAM's quota of managed policies per role next to
   * the rest: they are then granted by each repository's own policy (addDoctorRoles), never widened.
   */
  readonly readsInRepositoryPolicies: boolean;
  private readonly documents: readonly PolicyDocumentJson[];

  constructor(scope: Construct, id: string, props: DoctorRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Resource', {
      roleName: naming.DOCTOR_ROLE,
      path: props.path,
      description: 'Read-only: ferry doctor compares what is deployed in this account with the synthesized stacks. Assumed by people, never by pods.',
      // The account by its ID, which IAM stores as the account's root ARN: the same principal as
      // AccountRootPrincipal, but cfn-lint (E3530) knows no aws-eusc ARNs and refused that one.
      assumedBy: new iam.ArnPrincipal(literal(Stack.of(scope).account, 'account')),
      permissionsBoundary: props.permissionsBoundaryArn ? iam.ManagedPolicy.fromManagedPolicyArn(this, 'Boundary', props.permissionsBoundaryArn) : undefined,
    });
    ({ documents: this.documents, readsInRepositoryPolicies: this.readsInRepositoryPolicies } = planDoctorPolicies(props));
    const documents = this.documents;
    this.policies = documents.map((document, i) =>
      managedPolicy(this, i === 0 ? 'Policy' : `Policy${i + 1}`, {
        managedPolicyName: naming.doctorPolicyName(i),
        description: `Read-only access of ferry doctor to the stacks, roles, policies, OIDC providers and repositories ferry creates in this account${documents.length > 1 ? ` (part ${i + 1} of ${documents.length})` : ''}.`,
        path: props.path,
        document,
        roles: [this.role],
      }),
    );
    acknowledgeWildcards(this, props);
  }
}

/** What the doctor's policies name must be known at synth: a value CloudFormation resolves later cannot be measured or compared. */
function literal(value: unknown, what: string): string {
  if (typeof value !== 'string' || Token.isUnresolved(value)) throw new Error(`the doctor role needs a literal ${what}, got ${String(value)}`);
  return value;
}

/**
 * The doctor's policies, measured as deployed (policy-documents.ts). The repository reads ride
 * along while everything fits into IAM's quota of managed policies per role; past it they move to
 * the repositories' own policies. The doctor reads its own policies too, so their number is part
 * of what is packed: packed again until it is stable (it grows by at most a few).
 */
function planDoctorPolicies(props: DoctorRoleProps): { documents: PolicyDocumentJson[]; readsInRepositoryPolicies: boolean } {
  const pack = (policies: number, withRepositories: boolean): PolicyDocumentJson[] => {
    const own = Array.from({ length: policies }, (_, i) => props.ownPolicyArn(i));
    return packGrants(
      [
        grant('ReadStacks', DOCTOR_STACK_ACTIONS, props.stackArns),
        grant('ReadRoles', DOCTOR_ROLE_ACTIONS, props.roleArns),
        grant('ReadPolicies', DOCTOR_POLICY_ACTIONS, [...props.policyArns, ...own]),
        grant('ReadProviders', [DOCTOR_PROVIDER_ACTION], props.providerArns),
        withRepositories ? grant(DOCTOR_REPOSITORY_SID, DOCTOR_REPOSITORY_ACTIONS, props.repositoryArns) : undefined,
        props.creationTemplates ? grant('ReadCreationTemplates', [DOCTOR_CREATION_TEMPLATE_ACTION], ['*']) : undefined,
        props.outboundFederation ? grant('ReadOutboundFederation', [DOCTOR_OUTBOUND_ACTION], ['*']) : undefined,
      ].filter((g): g is Grant => g !== undefined),
    );
  };
  const settle = (withRepositories: boolean): PolicyDocumentJson[] => {
    let documents = pack(1, withRepositories);
    for (let n = 1; documents.length !== n && n <= MANAGED_POLICIES_PER_ROLE + 1; ) {
      n = documents.length;
      documents = pack(n, withRepositories);
    }
    return documents;
  };
  const all = settle(true);
  if (all.length <= MANAGED_POLICIES_PER_ROLE) return { documents: all, readsInRepositoryPolicies: false };
  return { documents: settle(false), readsInRepositoryPolicies: true };
}

/**
 * Whether the doctor's repository reads may move into the repository policies of `owner`'s
 * account: the stack split has to know before the doctor decides (its stack ARNs are part of what
 * the doctor reads), so it keeps room for them wherever this holds. True when the repository ARNs
 * alone fill more than half of the doctor's managed policies; below that, the account's stacks,
 * roles and policies would need the other half (about 300 ARNs) for the reads to move. Nothing
 * depends on the guess being right: where it is wrong, the limits check refuses the template.
 */
export function doctorReadsMayMove(config: FerryConfig, owner: Target): boolean {
  const repositoryArns = naming
    .allTargets(config)
    .filter((t) => naming.sameAccount(t, owner))
    .flatMap((t) => naming.repositoriesOf(config, t).map((r) => naming.repositoryArn(t, r)));
  const reads = grant(DOCTOR_REPOSITORY_SID, DOCTOR_REPOSITORY_ACTIONS, repositoryArns);
  return reads !== undefined && packGrants([reads]).length > MANAGED_POLICIES_PER_ROLE / 2;
}

/** The Sid of the repository reads, in the role's policy or in each repository's own policy. */
export const DOCTOR_REPOSITORY_SID = 'ReadRepositories';

function grant(sid: string, actions: readonly string[], resources: readonly string[]): Grant | undefined {
  if (resources.length === 0) return undefined;
  return { sid, actions, resources: [...new Set(resources)].sort() };
}

/** The `*` of the two account-level reads, and the stack-ID suffix CloudFormation appends to every stack ARN. */
function acknowledgeWildcards(policy: IConstruct, props: DoctorRoleProps): void {
  const star = [props.creationTemplates ? DOCTOR_CREATION_TEMPLATE_ACTION : undefined, props.outboundFederation ? DOCTOR_OUTBOUND_ACTION : undefined].filter(
    Boolean,
  );
  if (star.length > 0) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `Only ${star.join(' and ')} ${star.length === 1 ? 'is' : 'are'} granted on "*": IAM defines no resource type for ${star.length === 1 ? 'it' : 'them'}; both only read account settings.`,
    });
  }
  for (const arn of props.stackArns) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arn}]`,
      reason: 'A stack ARN ends in the stack ID CloudFormation assigns at creation: the stack name is exact, only the ID is a wildcard.',
    });
  }
}

/** The ARN CloudFormation gives stack `name` in `target`'s account and region, any stack ID. */
export function stackArnPattern(target: Pick<Target, 'partition' | 'region' | 'account'>, name: string): string {
  return `${arnPrefix(target.partition.id)}cloudformation:${target.region}:${target.account}:stack/${name}/*`;
}

/**
 * One DoctorRole per account, in a stack of its own (`ferry-<first target>-doctor`): call after every stack
 * of the app exists. What it may read is collected from the app's resources in that account.
 * Returns one line per account whose repository reads moved into repository policies.
 */
export function addDoctorRoles(app: App, config: FerryConfig): string[] {
  const notices: string[] = [];
  const stacks = app.node.children.filter((c): c is Stack => Stack.isStack(c));
  const owners = new Set(naming.allTargets(config).map((t) => naming.accountOwner(config, t)));
  for (const owner of owners) {
    const targets = naming.allTargets(config).filter((t) => naming.sameAccount(t, owner));
    const inAccount = stacks.filter((s) => targets.some((t) => s.account === t.account && s.region === t.region));
    const doctorStack = new Stack(
      app,
      naming.doctorStackName(owner),
      targetStackProps(
        owner,
        naming.doctorStackName(owner),
        `ferry doctor's read-only role of account ${owner.account} (${owner.partition.id}): reads what ferry's stacks of this account create. Deployed before them.`,
      ),
    );
    tagStack(doctorStack, owner);
    // Every stack of the account deploys after this one: `cdk deploy ferry-<target>` deploys it first,
    // and a repository policy naming the doctor role (below) never names a role that does not exist yet.
    for (const stack of inAccount) stack.addStackDependency(doctorStack, `it holds the ferry-doctor role that reads ${stack.stackName}`);
    const found = readable([...inAccount, doctorStack], owner);
    const doctor = new DoctorRole(doctorStack, 'DoctorRole', {
      path: owner.rolePath,
      permissionsBoundaryArn: owner.permissionsBoundaryArn,
      ...found,
      // The doctor checks its own role and policies too.
      roleArns: [...found.roleArns, naming.doctorRoleArn(owner)],
      ownPolicyArn: (i) => naming.doctorPolicyArn(owner, i),
      providerArns: providerPlans(config)
        .filter((p) => p.users.some((u) => naming.sameAccount(u, owner)))
        .map((p) => p.arn),
      outboundFederation: config.build === owner && config.destinations.some((d) => d.trust === 'outbound-federation'),
    });
    if (doctor.readsInRepositoryPolicies) {
      grantReadsInRepositoryPolicies(inAccount, naming.doctorRoleArn(owner));
      notices.push(
        `ferry: the ferry-doctor role of account ${owner.account} reads its ${found.repositoryArns.length} repositories through their repository policies: their exact ARNs do not fit into ${MANAGED_POLICIES_PER_ROLE} managed policies next to its other reads (docs/doctor.md)`,
      );
    }
  }
  return notices;
}

/**
 * The doctor's repository reads in each repository's own policy, naming its exact role ARN (the
 * pushers' fallback, access-plan.ts). ECR refuses a policy naming a role that does not exist yet:
 * every stack of the account deploys after the doctor's own stack.
 */
function grantReadsInRepositoryPolicies(stacks: readonly Stack[], roleArn: string): void {
  for (const repository of stacks.flatMap((s) => s.node.findAll()).filter((c): c is ecr.CfnRepository => c instanceof ecr.CfnRepository)) {
    repository.repositoryPolicyText = withDoctorReads(repository.repositoryPolicyText as PolicyDocumentJson | undefined, roleArn);
  }
}

/**
 * A repository's policy with the doctor's reads added, as addDoctorRoles writes it when they do
 * not fit into the doctor's own policies. The stack split measures it too: it is decided only
 * after every stack is filled, so the split keeps room for it (stack-split.ts).
 */
export function withDoctorReads(policy: PolicyDocumentJson | undefined, doctorRoleArn: string): PolicyDocumentJson {
  const statement = { Action: [...DOCTOR_REPOSITORY_ACTIONS].sort(), Effect: 'Allow', Principal: { AWS: doctorRoleArn }, Sid: DOCTOR_REPOSITORY_SID };
  return policyDocument([...(policy?.Statement ?? []), statement]);
}

/** The stacks, roles, managed policies and repositories the app creates in these stacks (one account). */
function readable(
  stacks: readonly Stack[],
  owner: Target,
): Pick<DoctorRoleProps, 'stackArns' | 'roleArns' | 'policyArns' | 'repositoryArns' | 'creationTemplates'> {
  const prefix = arnPrefix(owner.partition.id);
  const all = stacks.flatMap((s) => s.node.findAll().map((c) => ({ stack: s, c })));
  return {
    stackArns: stacks.map((s) => stackArnPattern({ partition: owner.partition, region: s.region, account: owner.account }, s.stackName)),
    roleArns: all
      .filter(({ c }) => c instanceof iam.CfnRole)
      .map(({ c }) => c as iam.CfnRole)
      .map((r) => `${prefix}iam::${owner.account}:role${r.path ?? '/'}${literal(r.roleName, 'role name')}`),
    policyArns: all
      .filter(({ c }) => c instanceof iam.CfnManagedPolicy)
      .map(({ c }) => c as iam.CfnManagedPolicy)
      .map((p) => `${prefix}iam::${owner.account}:policy${p.path ?? '/'}${literal(p.managedPolicyName, 'managed policy name')}`),
    repositoryArns: all
      .filter(({ c }) => c instanceof ecr.CfnRepository)
      .map(({ stack, c }) => `${prefix}ecr:${stack.region}:${owner.account}:repository/${literal((c as ecr.CfnRepository).repositoryName, 'repository name')}`),
    creationTemplates: all.some(({ c }) => c instanceof ecr.CfnRepositoryCreationTemplate),
  };
}
