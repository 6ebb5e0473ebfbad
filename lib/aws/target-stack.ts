/**
 * One stack per target (an account and region): its ECR repositories, the OIDC provider of the
 * issuer its role trusts (created here or imported, see providers.ts), the role that pushes there,
 * and in the build stack the source role of every destination in another account.
 */
import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { FerryConfig, TagMutability, Target } from '../config/model';
import * as naming from '../config/naming';
import { SHARED_FILE } from '../config/schema';
import { FERRY_TAGS } from '../config/tags';
import { type AccessPlan, planAccess, type RoleAccess, type RolePlan } from './access-plan';
import { IrsaRole, irsaGrants } from './irsa-role';
import { ClusterOidcProvider } from './oidc-provider';
import { type Grant, IAM_DESCRIPTION_MAX_CHARS } from './policy-documents';
import { combineGrants, type PrefixGrant, prefixPullGrant, prefixPushGrant } from './prefix-grants';
import { issuerKind, type ProviderPlan, providerOf } from './providers';
import { Repositories, type RepositoriesProps, type RepositorySettings } from './repositories';
import { acknowledgePrefixWildcards, RepositoryTemplates } from './repository-templates';
import { SourceRole, sourceGrants, type TokenGrant } from './source-role';
import { synthesizerFor } from './synthesizer';
import { managedPolicy } from './web-identity-role';

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
 *
 * It holds the OIDC provider, every role and policy of the target, and as many of its repositories
 * as fit; stack-split.ts puts the others into further stacks of the same account and region.
 */
export class TargetStack extends Stack {
  readonly repositories: Repositories;
  /** The IAM OIDC provider this target's role trusts, and which stack creates it. */
  readonly provider: ProviderPlan;
  readonly oidcProvider: ClusterOidcProvider;
  readonly role: IrsaRole;
  /** Build stack only: one source role per destination in another account. */
  readonly sourceRoles: readonly SourceRole[];
  /** Repository prefix mode: the creation templates, when prefixes are configured. */
  readonly templates?: RepositoryTemplates;
  /** Where every role's permissions went (own, shared and repository policies). */
  readonly access: AccessPlan;
  private readonly roleNames: ReadonlyMap<string, string>;

  constructor(
    scope: Construct,
    private readonly props: TargetStackProps,
  ) {
    const { config, target } = props;
    super(scope, naming.stackName(target), targetStackProps(target, naming.stackName(target), description(target)));
    tagStack(this, target);

    // Created first and filled last (stack-split.ts), so the template keeps its order: repositories first.
    this.repositories = new Repositories(this, 'Repositories', repositoriesProps(config, target));

    if (config.repositoryPrefixes.length > 0) {
      this.templates = new RepositoryTemplates(this, 'RepositoryTemplates', {
        prefixes: config.repositoryPrefixes.map((p) => ({
          prefix: naming.prefixPath(p),
          repositoriesArn: naming.repositoryPrefixArn(target, p),
          tagMutability: p.tagMutability,
          tagMutabilityExclusions: p.tagMutabilityExclusions,
        })),
        untaggedImageExpiryDays: config.untaggedImageExpiryDays,
        kmsKeyArn: target.kmsKeyArn,
        tags: { ...FERRY_TAGS, ...target.tags },
        creatorRoleName: naming.repositoryCreatorRoleName(target),
        path: target.rolePath,
        permissionsBoundaryArn: target.permissionsBoundaryArn,
      });
    }

    this.provider = providerOf(config, target);
    this.oidcProvider = new ClusterOidcProvider(this, this.provider.kind === 'cluster' ? 'ClusterOidcProvider' : 'OutboundOidcProvider', {
      issuerUrl: this.provider.issuerUrl,
      clientIds: [this.provider.clientId],
      providerArn: this.provider.arn,
      imported: this.provider.owner?.name !== target.name,
    });
    this.deployAfterProviderOwner(scope);

    const destinations = target.kind === 'build' ? config.destinations.filter((d) => naming.sourceRoleInBuildStack(config, d)) : [];
    const roles = [
      roleAccess(config, target, rolePrefixGrant(config, target)?.statements ?? []),
      ...destinations.map((d) => sourceRoleAccess(config, d, sourcePrefixGrant(config)?.statements ?? [])),
    ];
    this.roleNames = new Map(roles.map((r) => [r.id, r.roleName]));
    this.access = planAccess({
      stackName: naming.stackName(target),
      roles,
      sharedPolicyName: (i) => naming.sharedPolicyName(target, i),
    });

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
      plan: this.planOf('Role'),
      permissionsBoundaryArn: target.permissionsBoundaryArn,
    });
    this.sourceRoles = destinations.map((d) => this.sourceRole(config, d));
    this.addSharedPolicies();
    // The prefix wildcards sit in the roles' own managed policies: acknowledged there, one ARN at a time.
    acknowledgePrefixWildcards(this.role, rolePrefixGrant(config, target)?.arns ?? []);
    for (const source of this.sourceRoles) acknowledgePrefixWildcards(source, sourcePrefixGrant(config)?.arns ?? []);
  }

  /** The role constructs by the id their access plan uses. */
  get rolesById(): ReadonlyMap<string, iam.Role> {
    return new Map([['Role', this.role.role], ...this.sourceRoles.map((r) => [r.node.id, r.role] as const)]);
  }

  private planOf(id: string): RolePlan {
    const plan = this.access.roles.get(id);
    if (!plan) throw new Error(`${this.stackName}: no access plan for ${id}`);
    return plan;
  }

  /** Policies several roles share: created once, attached to each (see access-plan.ts). */
  private addSharedPolicies(): void {
    const roles = this.rolesById;
    this.access.shared.forEach((shared, i) => {
      managedPolicy(this, `SharedPolicy${i + 1}`, {
        managedPolicyName: shared.name,
        description: sharedPolicyDescription(
          shared.roles.map((id) => this.roleNames.get(id) ?? id),
          `part ${i + 1} of ${this.access.shared.length}`,
        ),
        path: this.props.target.rolePath,
        document: shared.document,
        roles: shared.roles.map((id) => {
          const role = roles.get(id);
          if (!role) throw new Error(`${this.stackName}: shared policy ${shared.name} names unknown role ${id}`);
          return role;
        }),
      });
    });
  }

  /** A source role in the build account for a destination in another account (see source-role.ts). */
  private sourceRole(config: FerryConfig, destination: Target): SourceRole {
    const { build, cluster } = config;
    const subject = naming.serviceAccountSubject(cluster, destination);
    const id = sourceRoleId(destination);
    // Construct id by name: reordering destinations never replaces a role.
    return new SourceRole(this, id, {
      roleName: naming.sourceRoleName(destination),
      path: build.rolePath,
      description: `Assumed by the ServiceAccount ${subject} of the build cluster: pulls the build repositories and reaches the pusher role of ${destination.name} (${destination.trust}).`,
      oidcProviderArn: this.oidcProvider.providerArn,
      oidcProvider: this.oidcProvider.dependable,
      issuerHostPath: this.provider.issuerHostPath,
      serviceAccountSubject: subject,
      audience: cluster.audience,
      mintsTokens: mintToken(config, destination) !== undefined,
      plan: this.planOf(id),
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

/** What every stack of a target shares: account and region, synthesizer, termination protection. */
export function targetStackProps(target: Target, name: string, stackDescription: string): StackProps {
  return {
    env: { account: target.account, region: target.region },
    stackName: name,
    description: stackDescription,
    synthesizer: synthesizerFor(target),
    terminationProtection: true,
  };
}

/** Every stack of a target carries ferry's tags and the target's. */
export function tagStack(stack: Stack, target: Target): void {
  for (const [key, value] of Object.entries({ ...FERRY_TAGS, ...target.tags })) Tags.of(stack).add(key, value);
}

export function repositoriesProps(config: FerryConfig, target: Target): RepositoriesProps {
  return { untaggedImageExpiryDays: config.untaggedImageExpiryDays, kmsKeyArn: target.kmsKeyArn };
}

function description(target: Target): string {
  const identity = target.kind === 'build' ? 'the Kaniko builder role' : 'the ferry pusher role';
  return `ferry ${target.kind} target "${target.name}" (${target.partition.id} ${target.account} ${target.region}): ECR repositories, the OIDC provider ${identity} trusts and ${identity}${target.kind === 'build' ? ', and the source roles of the push steps' : ''}.`;
}

export function sourceRoleId(destination: Target): string {
  return `SourceRole-${destination.name}`;
}

/** The builder or pusher role's grants: push to its repositories; pull the cache (build) or the build repositories (destination in the build account). */
function roleAccess(config: FerryConfig, target: Target, extraStatements: readonly Grant[]): RoleAccess {
  const repositoryArn = (name: string): string => naming.repositoryArn(target, name);
  const sameAccountDestination = target.kind === 'destination' && !naming.sourceRoleInBuildStack(config, target);
  return {
    id: 'Role',
    roleName: naming.roleName(target),
    roleArn: naming.roleArn(target),
    policyName: (i) => naming.rolePolicyName(target, i),
    statements: irsaGrants({
      pushRepositoryArns: naming.repositoriesOf(config, target).map(repositoryArn),
      pullRepositoryArns: target.kind === 'build' ? [repositoryArn(config.cacheRepository)] : [],
      remotePullRepositoryArns: sameAccountDestination ? buildRepositoryArns(config) : [],
      listTags: target.kind === 'destination',
      extraStatements,
    }),
  };
}

function sourceRoleAccess(config: FerryConfig, destination: Target, extraStatements: readonly Grant[]): RoleAccess {
  return {
    id: sourceRoleId(destination),
    roleName: naming.sourceRoleName(destination),
    roleArn: naming.sourceRoleArn(config, destination),
    policyName: (i) => naming.sourceRolePolicyName(destination, i),
    statements: sourceGrants({ pullRepositoryArns: buildRepositoryArns(config), mintToken: mintToken(config, destination), extraStatements }),
  };
}

function mintToken(config: FerryConfig, destination: Target): TokenGrant | undefined {
  const { outboundFederation } = config;
  return destination.trust === 'outbound-federation' && outboundFederation
    ? {
        audience: outboundFederation.audience,
        signingAlgorithm: naming.OUTBOUND_SIGNING_ALGORITHM,
        maxDurationSeconds: outboundFederation.tokenDurationSeconds,
      }
    : undefined;
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

/** Every repository under a prefix in the build registry: what push steps copy from in prefix mode. */
export function buildPrefixArns(config: FerryConfig): string[] {
  return config.repositoryPrefixes.map((p) => naming.repositoryPrefixArn(config.build, p));
}

/**
 * A target's own role under the prefixes: push with create on push in its account (the builder for
 * Kaniko, a pusher for its copies), plus, for a destination in the build account that is its own
 * source role, pull under the build prefixes.
 */
function rolePrefixGrant(config: FerryConfig, target: Target): PrefixGrant | undefined {
  const own = config.repositoryPrefixes.map((p) => naming.repositoryPrefixArn(target, p));
  const tagged = Object.keys({ ...FERRY_TAGS, ...target.tags }).length > 0;
  const push = prefixPushGrant(own, { listTags: target.kind === 'destination', tagged });
  const readsBuild = target.kind === 'destination' && !naming.sourceRoleInBuildStack(config, target);
  return readsBuild ? combineGrants(push, sourcePrefixGrant(config)) : push;
}

/** A source role under the prefixes: pull from the build registry's. */
function sourcePrefixGrant(config: FerryConfig): PrefixGrant | undefined {
  return prefixPullGrant(buildPrefixArns(config));
}

/** The configured repositories in the build registry: what every push step copies from (not the cache, not the pusher image). */
export function buildRepositoryArns(config: FerryConfig): string[] {
  return config.repositories.map((r) => naming.repositoryArn(config.build, r.name));
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

/**
 * Names the roles sharing a policy while that fits into IAM's description limit; a policy shared by
 * a hundred source roles only counts them (its attachments name them all).
 */
export function sharedPolicyDescription(roleNames: readonly string[], part: string): string {
  const named = `Repository permissions that the roles ${roleNames.join(', ')} all need, on exact repository ARNs (${part}).`;
  if (named.length <= IAM_DESCRIPTION_MAX_CHARS) return named;
  return `Repository permissions that the ${roleNames.length} roles it is attached to all need, on exact repository ARNs (${part}).`;
}
