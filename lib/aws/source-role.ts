/**
 * The identity a destination's push step starts as, in the build account: it pulls the image from
 * the build registry and reaches the destination role. For an outbound-federation destination it
 * also mints the outbound web identity token that the destination role trusts.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ECR_LIST_ACTION, ECR_LOGIN_ACTION, ECR_PULL_ACTIONS } from './irsa-role';
import type { PrefixGrant } from './prefix-grants';
import { acknowledgePrefixWildcards } from './repository-templates';
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

/** The trust is the cluster's: `oidcProviderArn` the build account's provider for the cluster issuer, `audience` the cluster audience. */
export interface SourceRoleProps extends WebIdentityRoleBaseProps {
  /** Fixed role name, so the ARN (the `sub` of the minted tokens) is known before deploy. */
  readonly roleName: string;
  /** The only token subject trusted: the push ServiceAccount, `system:serviceaccount:<namespace>:<name>`. */
  readonly serviceAccountSubject: string;
  /** The build repositories the push step copies from, as exact ARNs. */
  readonly pullRepositoryArns: readonly string[];
  /** Allow minting outbound web identity tokens, pinned to these values. @default - no token minting */
  readonly mintToken?: TokenGrant;
  /** Pull under the build account's repository prefixes (prefix-grants.ts). @default - none */
  readonly prefixGrant?: PrefixGrant;
}

/**
 * Permissions in one customer-managed policy (NIST 800-53 AC-6, as for the pusher roles). The only
 * `*` resources are the two actions IAM offers no resource type for: ecr:GetAuthorizationToken and
 * sts:GetWebIdentityToken (Service Authorization Reference); the latter is pinned by its conditions.
 */
export class SourceRole extends Construct {
  readonly role: iam.Role;
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: SourceRoleProps) {
    super(scope, id);
    const statements = [
      new iam.PolicyStatement({ sid: 'RegistryLogin', actions: [ECR_LOGIN_ACTION], resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'PullBuildImages', actions: [...ECR_PULL_ACTIONS, ECR_LIST_ACTION], resources: [...props.pullRepositoryArns] }),
    ];
    statements.push(...(props.prefixGrant?.statements ?? []));
    if (props.mintToken) statements.push(mintStatement(props.mintToken));
    ({ role: this.role, policy: this.policy } = addWebIdentityRole(this, {
      ...props,
      subject: props.serviceAccountSubject,
      policyDescription: `Permissions of the source role ${props.roleName}: registry login, pull of the build repositories${props.mintToken ? ', and minting outbound web identity tokens for one audience' : ''}.`,
      statements,
      wildcardReason: props.mintToken
        ? `Only ${ECR_LOGIN_ACTION} and ${MINT_TOKEN_ACTION} are granted on "*": IAM defines no resource type for either. The token grant is pinned by conditions on audience, signing algorithm and duration; pull is scoped to exact repository ARNs.`
        : `Only ${ECR_LOGIN_ACTION} is granted on "*": the action has no resource-level permissions. Pull is scoped to exact repository ARNs.`,
    }));
    if (props.prefixGrant) acknowledgePrefixWildcards(this.policy, props.prefixGrant.arns);
  }
}

/**
 * `sts:IdentityTokenAudience` is multivalued (a request may list up to 10 audiences), hence
 * ForAllValues, and Null=false so that a request without any audience cannot pass it vacuously.
 * `sts:DurationSeconds` without IfExists: a request must state its duration, or it is refused.
 */
function mintStatement(grant: TokenGrant): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'MintOutboundToken',
    actions: [MINT_TOKEN_ACTION],
    resources: ['*'],
    conditions: {
      Null: { 'sts:IdentityTokenAudience': 'false' },
      'ForAllValues:StringEquals': { 'sts:IdentityTokenAudience': [grant.audience] },
      StringEquals: { 'sts:SigningAlgorithm': grant.signingAlgorithm },
      NumericLessThanEquals: { 'sts:DurationSeconds': grant.maxDurationSeconds },
    },
  });
}
