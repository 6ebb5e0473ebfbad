/**
 * One stack per target (an account and region): its ECR repositories, the OIDC provider of the
 * issuer its role trusts (created here or imported, see providers.ts), the role that pushes there,
 * and in the build stack the source role of every destination in another account.
 */
import { Stack, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { FerryConfig, TagMutability, Target } from '../config/model';
import * as naming from '../config/naming';
import { SHARED_FILE } from '../config/schema';
import { FERRY_TAGS } from '../config/tags';
import { IrsaRole } from './irsa-role';
import { ClusterOidcProvider } from './oidc-provider';
import { issuerKind, type ProviderPlan, providerOf } from './providers';
import { Repositories, type RepositorySettings } from './repositories';
import { SourceRole } from './source-role';
import { synthesizerFor } from './synthesizer';

/** Kaniko's default `--cache-ttl` (two weeks): older cache layers are never read again. */
export const KANIKO_CACHE_TTL_DAYS = 14;

export interface TargetStackProps {
  /** The whole config: cluster, repositories, lifecycle settings. */
  readonly config: FerryConfig;
  /** The account and region this stack deploys into. */
  readonly target: Target;
}

/**
 * Named by `naming.stackName` with a concrete account and region, so `cdk deploy <name>` with
 * that one account's credentials deploys exactly it. Termination protection is on: deleting the
 * stack would delete the role every pipeline run depends on.
 */
export class TargetStack extends Stack {
  readonly repositories: Repositories;
  /** The IAM OIDC provider this target's role trusts, and which stack creates it. */
  readonly provider: ProviderPlan;
  readonly oidcProvider: ClusterOidcProvider;
  readonly role: IrsaRole;
  /** Build stack only: one source role per destination in another account. */
  readonly sourceRoles: readonly SourceRole[];

  constructor(
    scope: Construct,
    private readonly props: TargetStackProps,
  ) {
    const { config, target } = props;
    const identity = target.kind === 'build' ? 'the Kaniko builder role' : 'the ferry pusher role';
    super(scope, naming.stackName(target), {
      env: { account: target.account, region: target.region },
      stackName: naming.stackName(target),
      description: `ferry ${target.kind} target "${target.name}" (${target.partition.id} ${target.account} ${target.region}): ECR repositories, the OIDC provider ${identity} trusts and ${identity}${target.kind === 'build' ? ', and the source roles of the push steps' : ''}.`,
      synthesizer: synthesizerFor(target),
      terminationProtection: true,
    });
    for (const [key, value] of Object.entries({ ...FERRY_TAGS, ...target.tags })) Tags.of(this).add(key, value);

    this.repositories = new Repositories(this, 'Repositories', {
      repositories: repositorySettings(config, target),
      untaggedImageExpiryDays: config.untaggedImageExpiryDays,
      kmsKeyArn: target.kmsKeyArn,
    });

    this.provider = providerOf(config, target);
    this.oidcProvider = new ClusterOidcProvider(this, this.provider.kind === 'cluster' ? 'ClusterOidcProvider' : 'OutboundOidcProvider', {
      issuerUrl: this.provider.issuerUrl,
      clientIds: [this.provider.clientId],
      providerArn: this.provider.arn,
      imported: this.provider.owner?.name !== target.name,
    });
    this.deployAfterProviderOwner(scope);

    const repositoryArn = (name: string): string => naming.repositoryArn(target, name);
    const trust = trustOf(config, target);
    this.role = new IrsaRole(this, 'Role', {
      roleName: naming.roleName(target),
      path: target.rolePath,
      description: trust.description,
      oidcProviderArn: this.oidcProvider.providerArn,
      oidcProvider: this.oidcProvider.dependable,
      issuerHostPath: this.provider.issuerHostPath,
      subject: trust.subject,
      audience: this.provider.clientId,
      policyName: naming.rolePolicyName(target),
      pushRepositoryArns: naming.repositoriesOf(config, target).map(repositoryArn),
      pullRepositoryArns: pullRepositoryArns(config, target),
      permissionsBoundaryArn: target.permissionsBoundaryArn,
      listTags: target.kind === 'destination',
    });

    this.sourceRoles =
      target.kind === 'build' ? config.destinations.filter((d) => naming.sourceRoleInBuildStack(config, d)).map((d) => this.sourceRole(config, d)) : [];
  }

  /** A source role in the build account for a destination in another account (see source-role.ts). */
  private sourceRole(config: FerryConfig, destination: Target): SourceRole {
    const { build, cluster, outboundFederation } = config;
    const subject = naming.serviceAccountSubject(cluster, destination);
    // Construct id by name: reordering destinations never replaces a role.
    return new SourceRole(this, `SourceRole-${destination.name}`, {
      roleName: naming.sourceRoleName(destination),
      path: build.rolePath,
      description: `Assumed by the ServiceAccount ${subject} of the build cluster: pulls the build repositories and reaches the pusher role of ${destination.name} (${destination.trust}).`,
      oidcProviderArn: this.oidcProvider.providerArn,
      oidcProvider: this.oidcProvider.dependable,
      issuerHostPath: this.provider.issuerHostPath,
      serviceAccountSubject: subject,
      audience: cluster.audience,
      policyName: naming.sourceRolePolicyName(destination),
      pullRepositoryArns: buildRepositoryArns(config),
      mintToken:
        destination.trust === 'outbound-federation' && outboundFederation
          ? {
              audience: outboundFederation.audience,
              signingAlgorithm: naming.OUTBOUND_SIGNING_ALGORITHM,
              maxDurationSeconds: outboundFederation.tokenDurationSeconds,
            }
          : undefined,
      permissionsBoundaryArn: build.permissionsBoundaryArn,
    });
  }

  /**
   * A stack that imports a provider another stack of the same account creates deploys after it:
   * `cdk deploy <this stack>` then deploys the owner first, with the same account's credentials.
   * The owner is the first target of the account, so its stack already exists here.
   */
  private deployAfterProviderOwner(scope: Construct): void {
    const owner = this.provider.owner;
    if (!owner || owner.name === this.props.target.name) return;
    const ownerStack = scope.node.tryFindChild(naming.stackName(owner));
    if (!(ownerStack instanceof Stack))
      throw new Error(`${naming.stackName(this.props.target)}: the stack that creates ${this.provider.arn} (${naming.stackName(owner)}) must be created first`);
    this.addStackDependency(ownerStack, `it creates the IAM OIDC provider ${this.provider.arn} that ${naming.roleName(this.props.target)} trusts`);
    this.templateOptions.metadata = {
      ...this.templateOptions.metadata,
      FerryDeployAfter: { Stack: naming.stackName(owner), Reason: `creates ${this.provider.arn}` },
    };
  }
}

/** Who may assume a target's role, and how to describe it in IAM. */
function trustOf(config: FerryConfig, target: Target): { subject: string | readonly string[]; description: string } {
  if (issuerKind(target) === 'outbound') {
    const source = naming.sourceRoleArn(config, target);
    return {
      subject: naming.outboundTokenSubjects(config, target),
      description: `Assumed with an outbound web identity token of ${source} (build account) to push images.`,
    };
  }
  const subject = naming.serviceAccountSubject(config.cluster, target);
  return { subject, description: `Assumed by the ServiceAccount ${subject} of the build cluster to push images.` };
}

/** The configured repositories in the build registry: what every push step copies from (not the cache, not the pusher image). */
export function buildRepositoryArns(config: FerryConfig): string[] {
  return config.repositories.map((r) => naming.repositoryArn(config.build, r.name));
}

/** Build: the Kaniko cache. A destination in the build account is its own source role: the build repositories. */
function pullRepositoryArns(config: FerryConfig, target: Target): string[] {
  if (target.kind === 'build') return [naming.repositoryArn(target, config.cacheRepository)];
  return naming.sourceRoleInBuildStack(config, target) ? [] : buildRepositoryArns(config);
}

/** Settings per repository: configured ones as configured; the build-only ones fixed here. */
export function repositorySettings(config: FerryConfig, target: Target): RepositorySettings[] {
  const configured = new Map(config.repositories.map((r, i) => [r.name, { ...r, index: i }]));
  return naming.repositoriesOf(config, target).map((name): RepositorySettings => {
    const repository = configured.get(name);
    if (repository) {
      const { index, ...settings } = repository;
      return { ...settings, mutabilityReason: configuredReason(settings.tagMutability, settings.tagMutabilityExclusions, index) };
    }
    if (name === config.cacheRepository) {
      // Kaniko re-pushes a cache entry under the same tag once it is older than --cache-ttl; with
      // immutable tags that push fails (Kaniko logs it as a warning and builds on) and the layer is
      // rebuilt on every run until the lifecycle rule has expired the old entry.
      return {
        name,
        tagMutability: config.cacheTagMutability,
        tagMutabilityExclusions: [],
        expireAllImagesAfterDays: KANIKO_CACHE_TTL_DAYS,
        mutabilityReason: `The Kaniko layer cache (${SHARED_FILE} cacheTagMutability: ${config.cacheTagMutability}) re-pushes an entry under the same tag once it is older than --cache-ttl (${KANIKO_CACHE_TTL_DAYS} days); with IMMUTABLE tags that push fails and the layer is rebuilt until ECR's lifecycle rule expires the entry. Set cacheTagMutability: IMMUTABLE to pass CT.ECR.PR.3 at that cost.`,
      };
    }
    // The pusher image is pushed once per ferry version, under that version only: its tags never move.
    return { name, tagMutability: 'IMMUTABLE', tagMutabilityExclusions: [] };
  });
}

function configuredReason(mutability: TagMutability, exclusions: readonly string[], index: number): string | undefined {
  if (mutability === 'IMMUTABLE') return undefined;
  const field = `${SHARED_FILE} repositories[${index}].tagMutability`;
  const moving = mutability.endsWith('_WITH_EXCLUSION') ? ` with exclusions ${exclusions.join(', ') || '(none)'}` : '';
  return `Chosen in the config (${field}: ${mutability}${moving}) so that ${mutability === 'IMMUTABLE_WITH_EXCLUSION' ? 'release tags stay immutable while the excluded tags (such as latest) can move' : 'tags can be overwritten'}. CT.ECR.PR.3 accepts only IMMUTABLE: set tagMutability: IMMUTABLE to pass it.`;
}
