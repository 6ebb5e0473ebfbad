/**
 * Which stack owns each IAM OIDC provider.
 *
 * IAM allows one provider per issuer URL per account, whichever stack or region asks: a second
 * `AWS::IAM::OIDCProvider` for the same URL fails with EntityAlreadyExists. So for every account
 * and issuer exactly one stack creates the provider, decided deterministically: the first target
 * (build first, then file order) whose role trusts that issuer. Every other stack of that account
 * imports it by its ARN, which IAM derives from account and URL and is therefore known before deploy,
 * and deploys after the owner. When any of those targets sets `oidcProviderArn`, the provider
 * already exists outside ferry and no stack creates it.
 */
import type { FerryConfig, Target } from '../config/model';
import * as naming from '../config/naming';
import { arnPrefix } from '../config/partitions';

/** The issuer a target's role trusts. */
export type IssuerKind = 'cluster' | 'outbound';

export interface ProviderPlan {
  /** cluster: the build cluster's OIDC issuer. outbound: the build account's outbound web identity issuer. */
  readonly kind: IssuerKind;
  /** The issuer URL, the provider's `Url` and the `iss` claim of its tokens. */
  readonly issuerUrl: string;
  /** The issuer without `https://`: the provider's name in its ARN and the prefix of its condition keys. */
  readonly issuerHostPath: string;
  /** The one audience the trusting roles accept; the provider must list it as client ID. */
  readonly clientId: string;
  /** `arn:<partition>:iam::<account>:oidc-provider/<issuerHostPath>` */
  readonly arn: string;
  /** The target whose stack creates the provider; undefined when it exists outside ferry (`oidcProviderArn`). */
  readonly owner?: Target;
  /** Every target of the account whose role trusts this issuer, in target order. */
  readonly users: readonly Target[];
}

/** The issuer a target's role trusts: outbound for an outbound-federation destination, else the cluster's. */
export function issuerKind(target: Target): IssuerKind {
  return target.kind === 'destination' && target.trust === 'outbound-federation' ? 'outbound' : 'cluster';
}

/** Every provider ferry's roles trust, one per account and issuer, in target order. */
export function providerPlans(config: FerryConfig): ProviderPlan[] {
  const groups = new Map<string, Target[]>();
  for (const target of naming.allTargets(config)) {
    const key = `${naming.accountKey(target)} ${issuerKind(target)}`;
    groups.set(key, [...(groups.get(key) ?? []), target]);
  }
  return [...groups.values()].map((users) => plan(config, users));
}

/** The provider a target's role trusts. */
export function providerOf(config: FerryConfig, target: Target): ProviderPlan {
  const found = providerPlans(config).find((p) => p.users.some((u) => u.name === target.name));
  if (!found) throw new Error(`no OIDC provider planned for target ${target.name}`);
  return found;
}

function plan(config: FerryConfig, users: Target[]): ProviderPlan {
  const first = users[0];
  const kind = issuerKind(first);
  const issuerUrl = kind === 'cluster' ? config.cluster.issuerUrl : outbound(config, first).issuerUrl;
  const issuerHostPath = kind === 'cluster' ? naming.issuerHostPath(config.cluster) : naming.outboundIssuerHostPath(config);
  const clientId = kind === 'cluster' ? config.cluster.audience : outbound(config, first).audience;
  return {
    kind,
    issuerUrl,
    issuerHostPath,
    clientId,
    arn: `${arnPrefix(first.partition.id)}iam::${first.account}:oidc-provider/${issuerHostPath}`,
    owner: users.some((u) => u.oidcProviderArn !== undefined) ? undefined : first,
    users,
  };
}

function outbound(config: FerryConfig, target: Target) {
  // The loader refuses an outbound-federation destination without build.yaml outboundFederation.
  if (!config.outboundFederation) throw new Error(`${target.source}: ${target.name} uses trust: outbound-federation, but build.yaml has no outboundFederation`);
  return config.outboundFederation;
}

/**
 * What a synth tells the deployer once, one line each: for every imported provider, the client ID
 * it must list (IAM cannot be asked at synth time, and a provider without the roles' audience
 * refuses every token); for every stack that imports a provider another stack creates, which stack
 * to deploy first.
 */
export function providerNotices(config: FerryConfig): string[] {
  return providerPlans(config).flatMap((p) => {
    if (!p.owner) {
      const names = p.users.map((u) => naming.stackName(u)).join(', ');
      return [
        `ferry: ${names} import${p.users.length === 1 ? 's' : ''} ${p.arn}; it must list client ID "${p.clientId}" (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${p.arn} --client-id ${p.clientId})`,
      ];
    }
    const importers = p.users.filter((u) => u.name !== p.owner!.name);
    if (importers.length === 0) return [];
    return [
      `ferry: deploy ${naming.stackName(p.owner)} before ${importers.map((u) => naming.stackName(u)).join(', ')}: it creates ${p.arn}, which they trust (cdk deploy includes it unless --exclusively)`,
    ];
  });
}
