/**
 * The identity a destination's push step starts as, in the build account: it pulls the image from
 * the build registry and reaches the destination role. For an outbound-federation destination it
 * also mints the outbound web identity token that the destination role trusts.
 */
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RoleGrant, RolePlan } from './access-plan';
import { ECR_LIST_ACTION, ECR_LOGIN_ACTION, ECR_PULL_ACTIONS } from './irsa-role';
import type { Grant } from './policy-documents';
import { addWebIdentityRole, type WebIdentityRoleBaseProps } from './web-identity-role';

/** Mints an outbound web identity token (IAM outbound identity federation). */
export const MINT_TOKEN_ACTION = 'sts:GetWebIdentityToken';

/** What the source role may mint: exactly one audience, one algorithm, no longer than the maximum. */
export interface TokenGrant {
  /** The only `aud` the token may carry. */
  readonly audience: string;
  /** The only `SigningAlgorithm` the pusher may request (RS256 or ES384). */
  readonly signingAlgorithm: string;
  /** The longest `DurationSeconds` the pusher may request. */
  readonly maxDurationSeconds: number;
}

/** What a source role may do: pull the build repositories, and mint tokens if its destination trusts them. */
export interface SourceGrantProps {
  /** The build repositories the push step copies from, as exact ARNs. */
  readonly pullRepositoryArns: readonly string[];
  /** Allow minting outbound web identity tokens, pinned to these values. @default - no token minting */
  readonly mintToken?: TokenGrant;
  /** Further statements to keep in the role's managed policies as they are. @default - none */
  readonly extraStatements?: readonly Grant[];
}

export function sourceGrants(props: SourceGrantProps): RoleGrant[] {
  return [
    { sid: 'RegistryLogin', actions: [ECR_LOGIN_ACTION], resources: ['*'] },
    { sid: 'PullBuildImages', actions: [...ECR_PULL_ACTIONS, ECR_LIST_ACTION], resources: props.pullRepositoryArns, local: true },
    ...(props.mintToken ? [mintGrant(props.mintToken)] : []),
    ...(props.extraStatements ?? []),
  ];
}

/** The trust is the cluster's: `oidcProviderArn` the build account's provider for the cluster issuer, `audience` the cluster audience. */
export interface SourceRoleProps extends WebIdentityRoleBaseProps {
  /** Fixed role name, so the role's ARN (the `sub` of the minted tokens) is known before deploy. */
  readonly roleName: string;
  /** The only token subject trusted: the push ServiceAccount, `system:serviceaccount:<namespace>:<name>`. */
  readonly serviceAccountSubject: string;
  /** Whether the role mints tokens: for the policy's description and the acknowledgement's reason. */
  readonly mintsTokens: boolean;
  /** The role's managed policies, planned from sourceGrants (access-plan.ts). */
  readonly plan: RolePlan;
}

/**
 * Permissions in customer-managed policies (NIST 800-53 AC-6, as for the pusher roles). The only
 * `*` resources are the two actions IAM offers no resource type for: ecr:GetAuthorizationToken and
 * sts:GetWebIdentityToken (Service Authorization Reference); the latter is pinned by its conditions.
 */
export class SourceRole extends Construct {
  readonly role: iam.Role;
  readonly policies: iam.CfnManagedPolicy[];

  constructor(scope: Construct, id: string, props: SourceRoleProps) {
    super(scope, id);
    ({ role: this.role, policies: this.policies } = addWebIdentityRole(this, {
      ...props,
      subject: props.serviceAccountSubject,
      policyDescription: `Permissions of the source role ${props.roleName}: registry login, pull of the build repositories${props.mintsTokens ? ', and minting outbound web identity tokens for one audience' : ''}.`,
      policies: props.plan.documents,
      wildcardReason: props.mintsTokens
        ? `Only ${ECR_LOGIN_ACTION} and ${MINT_TOKEN_ACTION} are granted on "*": IAM defines no resource type for either. The token grant is pinned by conditions on audience, signing algorithm and duration; pull is scoped to exact repository ARNs.`
        : `Only ${ECR_LOGIN_ACTION} is granted on "*": the action has no resource-level permissions. Pull is scoped to exact repository ARNs.`,
    }));
  }
}

/**
 * `sts:IdentityTokenAudience` is multivalued (a request may list up to 10 audiences), hence
 * ForAllValues, and Null=false so that a request without any audience cannot pass it vacuously.
 * `sts:DurationSeconds` without IfExists: a request must state its duration, or it is refused.
 */
function mintGrant(grant: TokenGrant): Grant {
  return {
    sid: 'MintOutboundToken',
    actions: [MINT_TOKEN_ACTION],
    resources: ['*'],
    conditions: {
      Null: { 'sts:IdentityTokenAudience': 'false' },
      'ForAllValues:StringEquals': { 'sts:IdentityTokenAudience': [grant.audience] },
      StringEquals: { 'sts:SigningAlgorithm': grant.signingAlgorithm },
      NumericLessThanEquals: { 'sts:DurationSeconds': grant.maxDurationSeconds },
    },
  };
}
