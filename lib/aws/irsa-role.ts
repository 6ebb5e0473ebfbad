/**
 * The IAM role one Kubernetes ServiceAccount of the build cluster assumes (IRSA) to push images.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
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

export interface IrsaRoleProps extends WebIdentityRoleBaseProps {
  /**
   * The token subject trusted: the ServiceAccount `system:serviceaccount:<namespace>:<name>` for
   * cluster tokens; for outbound web identity tokens the source role's ARN, in both spellings
   * (naming.outboundTokenSubjects).
   */
  readonly subject: string | readonly string[];
  /** Repositories the role may push to, as exact ARNs. */
  readonly pushRepositoryArns: readonly string[];
  /** Repositories the role may also pull from (Kaniko's layer cache; the build repositories for a destination in the build account). @default - none */
  readonly pullRepositoryArns?: readonly string[];
  /** Also allow listing the tags of every push and pull repository (ECR_LIST_ACTION), for `ferry sync`. @default false */
  readonly listTags?: boolean;
}

/**
 * The permissions live in a customer-managed policy, not an inline one: NIST 800-53 (AC-6)
 * asks for managed policies so they can be reviewed and reused.
 */
export class IrsaRole extends Construct {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: IrsaRoleProps) {
    super(scope, id);
    const list = props.listTags ? [ECR_LIST_ACTION] : [];
    const statements = [
      new iam.PolicyStatement({ sid: 'RegistryLogin', actions: [ECR_LOGIN_ACTION], resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'Push', actions: [...ECR_PUSH_ACTIONS, ...list], resources: [...props.pushRepositoryArns] }),
    ];
    if (props.pullRepositoryArns?.length) {
      statements.push(new iam.PolicyStatement({ sid: 'Pull', actions: [...ECR_PULL_ACTIONS, ...list], resources: [...props.pullRepositoryArns] }));
    }
    ({ role: this.role, policy: this.policy } = addWebIdentityRole(this, {
      ...props,
      policyDescription: `ECR permissions of the role ${props.roleName}: registry login, and repository actions on exact repository ARNs only.`,
      statements,
      wildcardReason: `Only ${ECR_LOGIN_ACTION} is granted on "*": the action has no resource-level permissions. Every repository action is scoped to exact repository ARNs.`,
    }));
  }
}
