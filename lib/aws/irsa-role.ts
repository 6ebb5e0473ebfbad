/**
 * The IAM role one Kubernetes ServiceAccount of the build cluster assumes (IRSA) to push images.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RoleGrant, RolePlan } from './access-plan';
import type { Grant } from './policy-documents';
import { addWebIdentityRole, type WebIdentityRoleBaseProps } from './web-identity-role';

/** What pushing an image to ECR needs on the repository (the registry API calls of a push). */
export const ECR_PUSH_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
  'ecr:BatchGetImage',
] as const;

/** What pulling an image needs on the repository. */
export const ECR_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] as const;

/**
 * Listing a repository's tags (the registry API's /tags/list): `ferry sync` compares the tags of
 * the build repository with those of each destination. Pushers get it; the Kaniko builder does not.
 */
export const ECR_LIST_ACTION = 'ecr:ListImages';

/** Registry login. IAM offers no resource-level permission for it, hence `*`. */
export const ECR_LOGIN_ACTION = 'ecr:GetAuthorizationToken';

/** What the builder or pusher role may do on repositories, as exact ARNs. */
export interface IrsaGrantProps {
  /** Repositories the role may push to (its own stack's). */
  readonly pushRepositoryArns: readonly string[];
  /** Repositories of its own stack it may also pull from (Kaniko's layer cache). @default - none */
  readonly pullRepositoryArns?: readonly string[];
  /** Repositories of another stack it may pull from (the build repositories, for a destination in the build account). @default - none */
  readonly remotePullRepositoryArns?: readonly string[];
  /** Also allow listing the tags of every push and pull repository (ECR_LIST_ACTION), for `ferry sync`. @default false */
  readonly listTags?: boolean;
  /** Further statements to keep in the role's managed policies as they are. @default - none */
  readonly extraStatements?: readonly Grant[];
}

/** The login is the only `*`; every repository action names exact ARNs. */
export function irsaGrants(props: IrsaGrantProps): RoleGrant[] {
  const list = props.listTags ? [ECR_LIST_ACTION] : [];
  const pull = (resources: readonly string[], local: boolean): RoleGrant[] =>
    resources.length ? [{ sid: 'Pull', actions: [...ECR_PULL_ACTIONS, ...list], resources, local }] : [];
  return [
    { sid: 'RegistryLogin', actions: [ECR_LOGIN_ACTION], resources: ['*'] },
    { sid: 'Push', actions: [...ECR_PUSH_ACTIONS, ...list], resources: props.pushRepositoryArns, local: true },
    ...pull(props.pullRepositoryArns ?? [], true),
    ...pull(props.remotePullRepositoryArns ?? [], false),
    ...(props.extraStatements ?? []),
  ];
}

export interface IrsaRoleProps extends WebIdentityRoleBaseProps {
  /**
   * The token subject trusted: the ServiceAccount `system:serviceaccount:<namespace>:<name>` for
   * cluster tokens; for outbound web identity tokens the source role's ARN, in both spellings
   * (naming.outboundTokenSubjects).
   */
  readonly subject: string | readonly string[];
  /** The role's managed policies, planned from irsaGrants (access-plan.ts). */
  readonly plan: RolePlan;
}

/**
 * The permissions live in customer-managed policies, not inline ones: NIST 800-53 (AC-6)
 * asks for managed policies so they can be reviewed and reused.
 */
export class IrsaRole extends Construct {
  readonly role: iam.Role;
  readonly policies: iam.CfnManagedPolicy[];

  constructor(scope: Construct, id: string, props: IrsaRoleProps) {
    super(scope, id);
    ({ role: this.role, policies: this.policies } = addWebIdentityRole(this, {
      ...props,
      policyDescription: `ECR permissions of the role ${props.roleName}: registry login, and repository actions on exact repository ARNs only.`,
      policies: props.plan.documents,
      wildcardReason: `Only ${ECR_LOGIN_ACTION} is granted on "*": the action has no resource-level permissions. Every repository action is scoped to exact repository ARNs.`,
    }));
  }
}
