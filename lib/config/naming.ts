/**
 * Every physical name and ARN ferry uses, derived from config. The CDK app and the cdk8s app
 * both call these functions, so a role ARN on a ServiceAccount is the ARN CloudFormation creates.
 *
 * Names are fixed and deterministic (no CloudFormation-generated suffixes) so that ARNs are known
 * before anything is deployed, and so that the Kubernetes side needs no deploy outputs.
 */
import { version } from '../../package.json';
import type { Cluster, FerryConfig, RepositoryPrefix, Target } from './model';
import { arnPrefix, ecrRegistryHost } from './partitions';

export const PROJECT = 'ferry';

/** The repository the pipeline builds the pusher image into, in the build account. */
export const PUSHER_REPOSITORY = `${PROJECT}/${PROJECT}`;

export function allTargets(config: FerryConfig): readonly Target[] {
  return [config.build, ...config.destinations];
}

/** `cdk deploy <stackName>` deploys exactly this target's account and region (with its repository stacks, see below). */
export function stackName(target: Target): string {
  return `${PROJECT}-${target.name}`;
}

/** What joins a target's stack name and the number of one of its further repository stacks. */
export const REPOSITORY_STACK_INFIX = '-repositories-';

/**
 * The n-th stack of a target (n >= 2) when its resources do not fit into one stack: it holds
 * further repositories and deploys after `stackName(target)`. The config loader refuses target
 * names that start with another target's name and this infix, so no name (nor glob) collides.
 */
export function repositoryStackName(target: Target, n: number): string {
  return `${stackName(target)}${REPOSITORY_STACK_INFIX}${n}`;
}

/**
 * The stack of an account's read-only `ferry-doctor` role, named after the account's first target:
 * `ferry-<name>-doctor`. Every stack of the account deploys after it, so `cdk deploy ferry-<name>`
 * deploys it first. The config loader refuses a target named `<name>-doctor` beside `<name>`.
 */
export const DOCTOR_STACK_SUFFIX = '-doctor';

export function doctorStackName(owner: Target): string {
  return `${stackName(owner)}${DOCTOR_STACK_SUFFIX}`;
}

/** The glob that selects every further repository stack of a target: `cdk deploy <stackName> '<glob>'` deploys the whole account. */
export function repositoryStackGlob(target: Target): string {
  return `${stackName(target)}${REPOSITORY_STACK_INFIX}*`;
}

/** The IAM role and the Kubernetes ServiceAccount share this name: one identity, one name. */
export function identityName(target: Target): string {
  return `${PROJECT}-${target.kind === 'build' ? 'builder' : 'pusher'}-${target.name}`;
}

export const roleName = identityName;
export const serviceAccountName = identityName;

/** The read-only role `ferry doctor` reads an account with (one per account, in the stack of its first target), and its policy. */
export const DOCTOR_ROLE = `${PROJECT}-doctor`;
export const DOCTOR_POLICY = `${PROJECT}-doctor-read`;

/** The doctor role of `owner`'s account (owner: the account's first target, whose rolePath it takes). */
export function doctorRoleArn(owner: Target): string {
  return `${arnPrefix(owner.partition.id)}iam::${owner.account}:role${owner.rolePath}${DOCTOR_ROLE}`;
}

/** The doctor's n-th (0-based) managed policy in `owner`'s account. */
export function doctorPolicyArn(owner: Target, index: number): string {
  return `${arnPrefix(owner.partition.id)}iam::${owner.account}:policy${owner.rolePath}${doctorPolicyName(index)}`;
}

/** The first target of each account: its stack holds what exists once per account (the doctor role). */
export function accountOwner(config: FerryConfig, target: Target): Target {
  return allTargets(config).find((t) => sameAccount(t, target))!;
}

/** The role ECR assumes to create tagged or KMS-encrypted repositories under the prefixes (and its policy's name). */
export function repositoryCreatorRoleName(target: Target): string {
  return `${PROJECT}-repository-creator-${target.name}`;
}

/**
 * The customer-managed policies holding the role's ECR permissions: `<role>-ecr`, and when one
 * is not enough `<role>-ecr-2`, `<role>-ecr-3`, ... (index is 0-based).
 */
export function rolePolicyName(target: Target, index = 0): string {
  return numbered(`${roleName(target)}-ecr`, index);
}

/**
 * A policy of one stack attached to several of its roles: a repository grant they all need
 * identically (e.g. the pull of the build repositories by every source role), when it does not fit
 * into their own policies. `ferry-<target>-shared-1`, ... (index is 0-based).
 */
export function sharedPolicyName(target: Target, index: number): string {
  return `${PROJECT}-${target.name}-shared-${index + 1}`;
}

/** The doctor role's managed policies: `ferry-doctor-read`, and when one is not enough `-2`, `-3`, ... (index is 0-based). */
export function doctorPolicyName(index = 0): string {
  return numbered(DOCTOR_POLICY, index);
}

function numbered(name: string, index: number): string {
  return index === 0 ? name : `${name}-${index + 1}`;
}

export function roleArn(target: Target): string {
  return `${arnPrefix(target.partition.id)}iam::${target.account}:role${target.rolePath}${roleName(target)}`;
}

/** The `sub` claim of the projected token of this target's ServiceAccount. */
export function serviceAccountSubject(cluster: Cluster, target: Target): string {
  return `system:serviceaccount:${cluster.namespace}:${serviceAccountName(target)}`;
}

/** Issuer without scheme: the IAM provider's name and the prefix of its condition keys. */
export function issuerHostPath(cluster: Cluster): string {
  return cluster.issuerUrl.replace(/^https:\/\//, '');
}

export function oidcProviderArn(cluster: Cluster, target: Target): string {
  return target.oidcProviderArn ?? `${arnPrefix(target.partition.id)}iam::${target.account}:oidc-provider/${issuerHostPath(cluster)}`;
}

/**
 * The role a destination's push ServiceAccount is annotated with: the identity the push step
 * starts as, in the build account. It pulls the build repositories and reaches the destination
 * role (by the cluster token, or by minting an outbound web identity token). For a destination in
 * the build account itself it is that destination's own pusher role.
 */
export function sourceRoleArn(config: FerryConfig, destination: Target): string {
  if (!sourceRoleInBuildStack(config, destination)) return roleArn(destination);
  const build = config.build;
  return `${arnPrefix(build.partition.id)}iam::${build.account}:role${build.rolePath}${sourceRoleName(destination)}`;
}

/**
 * The `sub` values a destination role reached by outbound federation trusts: its source role's
 * ARN with the build target's rolePath, and without it. AWS documents `sub` as the calling role's
 * ARN but shows it only for a role without a path, so whether STS keeps the path is not
 * documented. Both spellings name the same role (role names are unique per account whatever the
 * path), so trusting both grants nothing more; with rolePath `/` they are one value.
 */
export function outboundTokenSubjects(config: FerryConfig, destination: Target): readonly string[] {
  const withPath = sourceRoleArn(config, destination);
  const build = config.build;
  const withoutPath = `${arnPrefix(build.partition.id)}iam::${build.account}:role/${sourceRoleName(destination)}`;
  return withPath === withoutPath ? [withPath] : [withPath, withoutPath];
}

/** Named like the destination's pusher role: one identity, one name, in two accounts. */
export function sourceRoleName(destination: Target): string {
  return roleName(destination);
}

/** The customer-managed policies of a source role: `<role>-source`, then `<role>-source-2`, ... (index is 0-based). */
export function sourceRolePolicyName(destination: Target, index = 0): string {
  return numbered(`${sourceRoleName(destination)}-source`, index);
}

/** True when the build stack creates a separate source role for this destination. */
export function sourceRoleInBuildStack(config: FerryConfig, destination: Target): boolean {
  return destination.kind === 'destination' && !sameAccount(destination, config.build);
}

/**
 * One AWS account: the same 12 digits in another partition are another account, with its own IAM.
 * Resources that exist once per account (OIDC providers, role and policy names) are keyed by this.
 */
export function accountKey(target: Target): string {
  return `${target.partition.id}:${target.account}`;
}

export function sameAccount(a: Target, b: Target): boolean {
  return accountKey(a) === accountKey(b);
}

/**
 * The algorithm every outbound web identity token is minted with (STS GetWebIdentityToken
 * `SigningAlgorithm`), pinned by the source roles' `sts:SigningAlgorithm` condition, so the pusher
 * must request exactly this. RS256: every AssumeRoleWithWebIdentity ever documented accepts RSA
 * tokens (ECDSA support came later and may lag in a partition), and OIDC makes RS256 the baseline.
 */
export const OUTBOUND_SIGNING_ALGORITHM = 'RS256';

/** The build account's outbound issuer without scheme: provider name and condition-key prefix. */
export function outboundIssuerHostPath(config: FerryConfig): string {
  if (!config.outboundFederation) throw new Error('outboundFederation is not configured');
  return config.outboundFederation.issuerUrl.replace(/^https:\/\//, '');
}

/** The IAM OIDC provider of the build account's outbound issuer in a target's account. */
export function outboundProviderArn(config: FerryConfig, target: Target): string {
  return target.oidcProviderArn ?? `${arnPrefix(target.partition.id)}iam::${target.account}:oidc-provider/${outboundIssuerHostPath(config)}`;
}

export function registryHost(target: Target): string {
  return ecrRegistryHost(target.account, target.region, { fips: target.fips });
}

export function repositoryArn(target: Target, repository: string): string {
  return `${arnPrefix(target.partition.id)}ecr:${target.region}:${target.account}:repository/${repository}`;
}

/**
 * A prefix as ECR matches it: without the trailing `/`, which ECR always assumes (`team-a` covers
 * `team-a/...`, never `team-ab`). The creation template's `Prefix` is written this way.
 */
export function prefixPath(prefix: RepositoryPrefix | string): string {
  return (typeof prefix === 'string' ? prefix : prefix.prefix).replace(/\/$/, '');
}

/**
 * Every repository under a prefix, in a target's account and region: `repository/<prefix>/*`. The
 * `/` before `*` keeps `team-a` from also granting `team-ab`, which its template does not cover.
 */
export function repositoryPrefixArn(target: Target, prefix: RepositoryPrefix | string): string {
  return repositoryArn(target, `${prefixPath(prefix)}/*`);
}

/** The configured prefix a repository name falls under, if any. */
export function prefixOf(config: FerryConfig, repository: string): RepositoryPrefix | undefined {
  return config.repositoryPrefixes.find((p) => repository.startsWith(`${prefixPath(p)}/`));
}

/** `host/repository`, without tag: the image name in that target's registry. */
export function imageName(target: Target, repository: string): string {
  return `${registryHost(target)}/${repository}`;
}

/** `host/repository` in the build registry: where every push step copies from. */
export function buildImageName(config: FerryConfig, repository: string): string {
  return imageName(config.build, repository);
}

/** Repositories created in a target's account: every configured one, plus the build-only ones. */
export function repositoriesOf(config: FerryConfig, target: Target): readonly string[] {
  const shared = config.repositories.map((r) => r.name);
  return target.kind === 'build' ? [...shared, config.cacheRepository, ...(config.images.pusher ? [] : [PUSHER_REPOSITORY])] : shared;
}

/** The tag of the pusher image ferry builds: this package's version, so templates and image move together. */
export const PUSHER_TAG = version;

/** The `ferry push` image: configured, or built by the build-pusher entry into the build registry. */
export function pusherImage(config: FerryConfig): string {
  return config.images.pusher ?? `${imageName(config.build, PUSHER_REPOSITORY)}:${PUSHER_TAG}`;
}

/** The Argo DAG task that delivers to this destination. */
export function pushTaskName(target: Target): string {
  return `push-${target.name}`;
}

/**
 * The ServiceAccount of the pipeline steps that need no AWS access (git clone, verify, notify).
 * It has no IAM role: only the builder and the pushers do.
 */
export const WORKFLOW_SERVICE_ACCOUNT = `${PROJECT}-workflow`;

/** The Role and RoleBinding that let every pipeline pod report its results to Argo. */
export const EXECUTOR_ROLE = `${PROJECT}-executor`;

/** Optional Secret with a `.git-credentials` file for cloning private repositories; the user creates it. */
export const GIT_CREDENTIALS_SECRET = `${PROJECT}-git-credentials`;
