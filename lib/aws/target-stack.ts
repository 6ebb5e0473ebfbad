/**
 * One stack per target (an account and region): its ECR repositories, the OIDC provider for the
 * build cluster's issuer, and the IRSA role that pushes there.
 */
import { Stack, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { FerryConfig, TagMutability, Target } from '../config/model';
import * as naming from '../config/naming';
import { SHARED_FILE } from '../config/schema';
import { FERRY_TAGS } from '../config/tags';
import { ClusterOidcProvider } from './oidc-provider';
import { IrsaRole } from './irsa-role';
import { Repositories, RepositorySettings } from './repositories';
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
  readonly oidcProvider: ClusterOidcProvider;
  readonly role: IrsaRole;

  constructor(scope: Construct, props: TargetStackProps) {
    const { config, target } = props;
    const identity = target.kind === 'build' ? 'the Kaniko builder role' : 'the ferry pusher role';
    super(scope, naming.stackName(target), {
      env: { account: target.account, region: target.region },
      stackName: naming.stackName(target),
      description: `ferry ${target.kind} target "${target.name}" (${target.partition.id} ${target.account} ${target.region}): ECR repositories, the build cluster's OIDC provider and ${identity}.`,
      synthesizer: synthesizerFor(target),
      terminationProtection: true,
    });
    for (const [key, value] of Object.entries({ ...FERRY_TAGS, ...target.tags })) Tags.of(this).add(key, value);

    this.repositories = new Repositories(this, 'Repositories', {
      repositories: repositorySettings(config, target),
      untaggedImageExpiryDays: config.untaggedImageExpiryDays,
      kmsKeyArn: target.kmsKeyArn,
    });

    this.oidcProvider = new ClusterOidcProvider(this, 'ClusterOidcProvider', {
      issuerUrl: config.cluster.issuerUrl,
      clientIds: [config.cluster.audience],
      providerArn: naming.oidcProviderArn(config.cluster, target),
      imported: target.oidcProviderArn !== undefined,
    });

    const repositoryArn = (name: string): string => naming.repositoryArn(target, name);
    this.role = new IrsaRole(this, 'Role', {
      roleName: naming.roleName(target),
      path: target.rolePath,
      description: `Assumed by the ServiceAccount ${naming.serviceAccountSubject(config.cluster, target)} of the build cluster to push images.`,
      oidcProviderArn: this.oidcProvider.providerArn,
      oidcProvider: this.oidcProvider.dependable,
      issuerHostPath: naming.issuerHostPath(config.cluster),
      serviceAccountSubject: naming.serviceAccountSubject(config.cluster, target),
      audience: config.cluster.audience,
      policyName: naming.rolePolicyName(target),
      pushRepositoryArns: naming.repositoriesOf(config, target).map(repositoryArn),
      pullRepositoryArns: target.kind === 'build' ? [repositoryArn(config.cacheRepository)] : [],
      permissionsBoundaryArn: target.permissionsBoundaryArn,
    });
  }
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
