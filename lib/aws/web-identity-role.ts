/**
 * The shape every ferry role shares: trusted through an IAM OIDC provider with both `sub` and
 * `aud` pinned, its permissions in customer-managed policies (NIST 800-53 AC-6 asks for
 * managed policies so they can be reviewed and reused), and the one cdk-nag IAM5 finding that
 * the `*` of the registry login brings acknowledged with the reason.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IDependable } from 'constructs';
import type { RolePlan } from './access-plan';
import type { PolicyDocumentJson } from './policy-documents';

/** What every ferry role states about itself and its trust, whatever it is permitted to do. */
export interface WebIdentityRoleBaseProps {
  /** Fixed role name, so the role's ARN is known before deploy. */
  readonly roleName: string;
  /** IAM path of the role and its policy. @default '/' */
  readonly path?: string;
  /** Shown in the IAM console. @default - none */
  readonly description?: string;
  /** ARN of the IAM OIDC provider of the issuer the role trusts. */
  readonly oidcProviderArn: string;
  /** Deployed before the role when the provider is created in the same stack. @default - nothing */
  readonly oidcProvider?: IDependable;
  /** Issuer without `https://`: the prefix of the provider's condition keys. */
  readonly issuerHostPath: string;
  /** The only token audience trusted. */
  readonly audience: string;
  /** Managed policy ARN set as the role's permissions boundary. @default - no boundary */
  readonly permissionsBoundaryArn?: string;
}

export interface WebIdentityRoleProps extends WebIdentityRoleBaseProps {
  /** The token subject trusted, or the spellings of one subject (StringEquals matches any of them). */
  readonly subject: string | readonly string[];
  /** The policy's description, shown in the IAM console. */
  readonly policyDescription: string;
  /** The role's own managed policies, as planned and measured (access-plan.ts). */
  readonly policies: RolePlan['documents'];
  /** Why the `*` resources in the statements are acceptable: the acknowledgement's reason. */
  readonly wildcardReason: string;
}

/**
 * Adds the role (id `Resource`), its boundary reference (`Boundary`) and its policies (`Policy`,
 * then `Policy2`, `Policy3`, ...) directly to `scope`, not to a construct of their own, so the
 * logical IDs stay those of the constructs that call it.
 */
export function addWebIdentityRole(scope: Construct, props: WebIdentityRoleProps): { role: iam.Role; policies: iam.CfnManagedPolicy[] } {
  const role = new iam.Role(scope, 'Resource', {
    roleName: props.roleName,
    path: props.path,
    description: props.description,
    // Both claims pinned: `sub` limits the role to one subject (one role ARN may come in two spellings), `aud` to tokens minted for STS.
    assumedBy: new iam.WebIdentityPrincipal(props.oidcProviderArn, {
      StringEquals: {
        [`${props.issuerHostPath}:sub`]: typeof props.subject === 'string' || props.subject.length !== 1 ? props.subject : props.subject[0],
        [`${props.issuerHostPath}:aud`]: props.audience,
      },
    }),
    permissionsBoundary: props.permissionsBoundaryArn ? iam.ManagedPolicy.fromManagedPolicyArn(scope, 'Boundary', props.permissionsBoundaryArn) : undefined,
  });
  // The trust policy names the provider by its literal ARN, which carries no dependency.
  if (props.oidcProvider) role.node.addDependency(props.oidcProvider);

  const policies = props.policies.map(({ name, document }, i) => {
    const part = props.policies.length > 1 ? ` (part ${i + 1} of ${props.policies.length})` : '';
    const policy = managedPolicy(scope, i === 0 ? 'Policy' : `Policy${i + 1}`, {
      managedPolicyName: name,
      description: `${props.policyDescription}${part}`,
      path: props.path,
      document,
      roles: [role],
    });
    // Plugin-qualified id: the validation report then lists the finding as acknowledged, with this reason.
    if (hasWildcardResource(document)) Validations.of(policy).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: props.wildcardReason });
    return policy.node.defaultChild as iam.CfnManagedPolicy;
  });
  return { role, policies };
}

export interface ManagedPolicyProps {
  readonly managedPolicyName: string;
  readonly description: string;
  /** IAM path. @default '/' */
  readonly path?: string;
  /** The document exactly as measured: written to the template unchanged. */
  readonly document: PolicyDocumentJson;
  readonly roles: readonly iam.IRole[];
}

/**
 * A customer managed policy whose document is written as given (L1 under a construct of its own,
 * id `Resource`, so its logical ID is the one an `iam.ManagedPolicy` with the same id had).
 */
export function managedPolicy(scope: Construct, id: string, props: ManagedPolicyProps): Construct {
  const holder = new Construct(scope, id);
  new iam.CfnManagedPolicy(holder, 'Resource', {
    managedPolicyName: props.managedPolicyName,
    description: props.description,
    path: props.path ?? '/',
    policyDocument: props.document,
    roles: props.roles.map((r) => r.roleName),
  });
  return holder;
}

function hasWildcardResource(document: PolicyDocumentJson): boolean {
  return document.Statement.some((s) => [s.Resource].flat().includes('*'));
}
