/**
 * Checks that span fields or files, run once every file has the right shape.
 */

import { DOCTOR_STACK_SUFFIX, PUSHER_REPOSITORY, prefixPath, REPOSITORY_STACK_INFIX } from './naming';
import { arnPrefix, partition, partitionOfRegion } from './partitions';
import type { FieldPath, Problem, SourceFile } from './problems';
import { closestRegion, ECR_FIPS_REGIONS, hasEcrFipsEndpoint, isKnownRegion } from './regions';
import type { BuildFile, DestinationFile, PartitionFile, SharedFile } from './schema';
import { configurableTagLimit, TAGS_PER_RESOURCE_MAX, tagKeyProblem, tagValueProblem } from './tags';

interface Parsed<T> {
  readonly source: SourceFile;
  readonly parsed: T;
}

interface CrossCheckInput {
  readonly build: Parsed<BuildFile>;
  readonly partitions: readonly Parsed<PartitionFile>[];
  readonly shared: Parsed<SharedFile>;
}

/** A target as written, with where it was written. */
interface Located {
  readonly source: SourceFile;
  readonly path: FieldPath;
  readonly partition: string;
  readonly target: BuildFile | DestinationFile;
}

export function crossCheck(input: CrossCheckInput): Problem[] {
  const targets: Located[] = [
    { source: input.build.source, path: [], partition: input.build.parsed.partition, target: input.build.parsed },
    ...input.partitions.flatMap(({ source, parsed }) =>
      parsed.destinations.map((target, i) => ({ source, path: ['destinations', i] as FieldPath, partition: parsed.partition, target })),
    ),
  ];
  return [
    ...onePartitionPerFile(input.partitions),
    ...targets.flatMap(targetProblems),
    ...duplicates(
      targets,
      (t) => t.target.name,
      'name',
      (first) => `is already used by ${where(first)} (every name must be unique: it becomes the stack, role and ServiceAccount name)`,
    ),
    ...repositoryStackClashes(targets),
    ...duplicates(
      targets,
      (t) => `${t.target.account}/${t.target.region}`,
      'account',
      (first) => `with region ${first.target.region} is listed twice: already at ${where(first)} (list each account and region once)`,
    ),
    ...duplicateRepositories(input.shared),
    ...prefixProblems(input.shared),
    ...trustProblems(input.build, targets),
  ];
}

function where(t: Located): string {
  const line = t.source.line(t.path);
  return `${t.source.file}${line ? `:${line}` : ''}`;
}

function onePartitionPerFile(files: readonly Parsed<PartitionFile>[]): Problem[] {
  const seen = new Map<string, SourceFile>();
  return files.flatMap(({ source, parsed }) => {
    const first = seen.get(parsed.partition);
    seen.set(parsed.partition, first ?? source);
    return first ? [source.problem(['partition'], `is already configured in ${first.file} (keep one file per partition)`)] : [];
  });
}

function targetProblems(t: Located): Problem[] {
  const { source, path, target } = t;
  const problems: Problem[] = [...regionProblems(t)];
  if (target.fips && !hasEcrFipsEndpoint(target.region)) {
    problems.push(
      source.problem(
        [...path, 'fips'],
        `ECR has no FIPS endpoint in ${target.region} (ECR FIPS endpoints exist only in ${ECR_FIPS_REGIONS.join(', ')}; remove fips or set it to false)`,
      ),
    );
  }
  const prefix = arnPrefix(t.partition);
  const arnChecks: ['oidcProviderArn' | 'kmsKeyArn' | 'permissionsBoundaryArn', RegExp, string][] = [
    [
      'oidcProviderArn',
      new RegExp(`^${quote(`${prefix}iam::${target.account}:oidc-provider/`)}`),
      `an ARN starting ${prefix}iam::${target.account}:oidc-provider/`,
    ],
    [
      'kmsKeyArn',
      new RegExp(`^${quote(`${prefix}kms:${target.region}:${target.account}:key/`)}`),
      `an ARN starting ${prefix}kms:${target.region}:${target.account}:key/`,
    ],
    [
      'permissionsBoundaryArn',
      new RegExp(`^${quote(`${prefix}iam::`)}(${target.account}|aws):policy/.`),
      `a managed policy of this account, ${prefix}iam::${target.account}:policy/<name>, or one AWS manages, ${prefix}iam::aws:policy/<name>`,
    ],
  ];
  for (const [field, pattern, expected] of arnChecks) {
    const value = target[field];
    if (typeof value === 'string' && !pattern.test(value)) {
      problems.push(source.problem([...path, field], `does not belong to this account and partition (expected ${expected})`));
    }
  }
  problems.push(...tagProblems(source, [...path, 'tags'], target.tags));
  return problems;
}

function quote(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The region must be one the AWS SDK knows in this partition, unless the target opts in to a newer one. */
function regionProblems(t: Located): Problem[] {
  const { source, path, target } = t;
  const at = [...path, 'region'];
  const facts = partition(t.partition);
  const owner = partitionOfRegion(target.region);
  if (owner?.id !== t.partition) {
    const whose = owner ? `is a region of partition ${owner.id}, not ${t.partition}` : `is not a region of partition ${t.partition}`;
    return [
      source.problem(
        at,
        `${whose} (expected a region of ${t.partition}, e.g. ${closestRegion(target.region, t.partition) ?? facts.exampleRegion}; move the target to the file of its partition if the region is right)`,
      ),
    ];
  }
  if (isKnownRegion(target.region, t.partition) || target.allowUnknownRegion) return [];
  const closest = closestRegion(target.region, t.partition);
  return [
    source.problem(
      at,
      `is not a region AWS lists for partition ${t.partition} (did you mean ${closest}? If it is a region newer than this ferry install knows, set allowUnknownRegion: true on this target)`,
    ),
  ];
}

function tagProblems(source: SourceFile, at: FieldPath, tags: Readonly<Record<string, string>>): Problem[] {
  const keys = Object.keys(tags);
  const problems: Problem[] = [];
  const limit = configurableTagLimit();
  if (keys.length > limit) {
    problems.push(
      source.problem(
        at,
        `has ${keys.length} tags (AWS allows ${TAGS_PER_RESOURCE_MAX} per resource${limit < TAGS_PER_RESOURCE_MAX ? `, and ferry adds ${TAGS_PER_RESOURCE_MAX - limit}` : ''}: keep at most ${limit})`,
        { showValue: false },
      ),
    );
  }
  const seen = new Map<string, string>();
  for (const key of keys) {
    const keyProblem = tagKeyProblem(key);
    if (keyProblem) problems.push(source.problem(at, keyProblem, { key, showValue: false }));
    const valueProblem = tagValueProblem(tags[key]);
    if (valueProblem) problems.push(source.problem(at, valueProblem, { key }));
    const first = seen.get(key.toLowerCase());
    if (first !== undefined)
      problems.push(source.problem(at, `is the same tag key as ${first} to IAM, which ignores case in tag keys (keep one of them)`, { key, showValue: false }));
    else seen.set(key.toLowerCase(), key);
  }
  return problems;
}

/**
 * A target whose repositories do not fit into one stack gets further stacks named
 * `ferry-<name>-repositories-<n>`, deployed with the glob `ferry-<name>-repositories-*`: no other
 * target's name may start with `<name>-repositories-`, or its stack could take that name or match that glob.
 */
function repositoryStackClashes(targets: readonly Located[]): Problem[] {
  return targets.flatMap((t) => {
    const other = targets.find((o) => o !== t && t.target.name.startsWith(`${o.target.name}${REPOSITORY_STACK_INFIX}`));
    const doctor = targets.find((o) => o !== t && t.target.name === `${o.target.name}${DOCTOR_STACK_SUFFIX}`);
    return [
      ...(other
        ? [
            t.source.problem(
              [...t.path, 'name'],
              `starts with "${other.target.name}${REPOSITORY_STACK_INFIX}", the prefix of the further repository stacks of target ${other.target.name} (${where(other)}): choose a name that does not`,
            ),
          ]
        : []),
      ...(doctor
        ? [
            t.source.problem(
              [...t.path, 'name'],
              `is the name of the ferry-doctor role's stack of target ${doctor.target.name} (${where(doctor)}), ferry-${doctor.target.name}${DOCTOR_STACK_SUFFIX}: choose another name`,
            ),
          ]
        : []),
    ];
  });
}

function duplicates(targets: readonly Located[], key: (t: Located) => string, field: string, message: (first: Located) => string): Problem[] {
  const seen = new Map<string, Located>();
  return targets.flatMap((t) => {
    const first = seen.get(key(t));
    if (!first) seen.set(key(t), t);
    return first ? [t.source.problem([...t.path, field], message(first))] : [];
  });
}

const MAX_EXCLUSION_FILTERS = 5;

function duplicateRepositories({ source, parsed }: Parsed<SharedFile>): Problem[] {
  const seen = new Set<string>();
  const problems = parsed.repositories.flatMap((r, i) => {
    const dup = seen.has(r.name);
    seen.add(r.name);
    const found = dup ? [source.problem(['repositories', i, 'name'], 'is listed twice (list each repository once)')] : [];
    // ECR takes 1-5 exclusion filters with the *_WITH_EXCLUSION settings (aws-cdk-lib checks the same at synth).
    const count = r.tagMutabilityExclusions.length;
    if (r.tagMutability.endsWith('_WITH_EXCLUSION') && (count < 1 || count > MAX_EXCLUSION_FILTERS)) {
      found.push(
        source.problem(
          ['repositories', i, 'tagMutabilityExclusions'],
          `has ${count} tag filters (${r.tagMutability} needs 1-${MAX_EXCLUSION_FILTERS}; or choose ${r.tagMutability.replace('_WITH_EXCLUSION', '')})`,
        ),
      );
    }
    return found;
  });
  if (parsed.cacheRepository && seen.has(parsed.cacheRepository)) {
    problems.push(source.problem(['cacheRepository'], 'is also an image repository (the Kaniko cache needs a repository of its own)'));
  }
  // Without images.pusher the build account also holds the pusher image's own repository.
  if (!parsed.images.pusher) {
    const reserved = `is the repository ferry builds its pusher image into (choose another name, or set images.pusher to use your own pusher image)`;
    parsed.repositories.forEach((r, i) => {
      if (r.name === PUSHER_REPOSITORY) problems.push(source.problem(['repositories', i, 'name'], reserved));
    });
    if (parsed.cacheRepository === PUSHER_REPOSITORY) problems.push(source.problem(['cacheRepository'], reserved));
  }
  return problems;
}

/**
 * Repository prefixes: each namespace once, none inside another (ECR would apply only the more
 * specific template, and the roles' two grants would overlap), none covering the build-only
 * repositories the roles must not reach through the prefix grant, exclusion filters as ECR takes them.
 */
function prefixProblems({ source, parsed }: Parsed<SharedFile>): Problem[] {
  const at = (i: number, field: string): FieldPath => ['repositoryPrefixes', i, field];
  const paths = parsed.repositoryPrefixes.map((p) => prefixPath(p.prefix));
  const reserved = [
    { name: parsed.cacheRepository, what: 'the Kaniko cache (cacheRepository)' },
    ...(parsed.images.pusher ? [] : [{ name: PUSHER_REPOSITORY, what: 'the pusher image (set images.pusher to use your own)' }]),
  ];
  return parsed.repositoryPrefixes.flatMap((p, i) => {
    const path = paths[i];
    const problems: Problem[] = [];
    const same = paths.indexOf(path);
    if (same < i) problems.push(source.problem(at(i, 'prefix'), `is the same prefix as repositoryPrefixes[${same}] (list each prefix once)`));
    const outer = paths.findIndex((other, j) => j !== i && path.startsWith(`${other}/`));
    if (outer >= 0)
      problems.push(
        source.problem(
          at(i, 'prefix'),
          `is inside repositoryPrefixes[${outer}] (${paths[outer]}/): keep one of them (ECR applies only the longest matching template)`,
        ),
      );
    const covered = reserved.filter((r) => r.name.startsWith(`${path}/`)).map((r) => `${r.name}, ${r.what}`);
    if (covered.length > 0)
      problems.push(
        source.problem(
          at(i, 'prefix'),
          `covers ${covered.join(', and ')}, which no push step may reach (choose a prefix that does not contain ${covered.length > 1 ? 'them' : 'it'})`,
        ),
      );
    const count = p.tagMutabilityExclusions.length;
    if (p.tagMutability.endsWith('_WITH_EXCLUSION') && (count < 1 || count > MAX_EXCLUSION_FILTERS)) {
      problems.push(
        source.problem(
          at(i, 'tagMutabilityExclusions'),
          `has ${count} tag filters (${p.tagMutability} needs 1-${MAX_EXCLUSION_FILTERS}; or choose ${p.tagMutability.replace('_WITH_EXCLUSION', '')})`,
        ),
      );
    }
    return problems;
  });
}

/** IAM's limits for an OIDC provider: URL up to 255 characters without port or query, client IDs up to 255. */
const IAM_PROVIDER_URL_MAX = 255;
const IAM_CLIENT_ID_MAX = 255;

const ENABLE_HINT =
  'enable outbound identity federation once in the build account with `aws iam enable-outbound-web-identity-federation` and set the IssuerIdentifier it prints, or read it back with `aws iam get-outbound-web-identity-federation-info`';

/** Rules of the two trust paths that AWS would otherwise enforce only at deploy or push time. */
function trustProblems(build: Parsed<BuildFile>, targets: readonly Located[]): Problem[] {
  const { source, parsed } = build;
  const outbound = targets.filter(usesOutbound);
  const problems: Problem[] = [
    ...issuerProblems(source, ['cluster', 'issuerUrl'], parsed.cluster.issuerUrl),
    ...clientIdProblems(source, ['cluster', 'audience'], parsed.cluster.audience),
  ];
  if (parsed.outboundFederation) {
    const issuer = parsed.outboundFederation.issuerUrl;
    problems.push(...issuerProblems(source, ['outboundFederation', 'issuerUrl'], issuer));
    problems.push(...clientIdProblems(source, ['outboundFederation', 'audience'], parsed.outboundFederation.audience));
    if (trimSlash(issuer) === trimSlash(parsed.cluster.issuerUrl)) {
      problems.push(
        source.problem(['outboundFederation', 'issuerUrl'], `is the cluster's OIDC issuer (expected the build account's outbound issuer: ${ENABLE_HINT})`),
      );
    }
  } else if (outbound.length > 0) {
    const first = outbound[0];
    const others = outbound.length > 1 ? ` and ${outbound.length - 1} more` : '';
    problems.push(
      source.problem(
        ['outboundFederation', 'issuerUrl'],
        `missing (required: ${first.target.name} at ${where(first)}${others} uses trust: outbound-federation; ${ENABLE_HINT})`,
      ),
    );
  }
  for (const t of outbound) {
    if (t.partition === parsed.partition) {
      problems.push(
        t.source.problem(
          [...t.path, 'trust'],
          `is refused in partition ${t.partition}, the build account's own: STS does not accept an outbound web identity token in the partition that issued it (use trust: cluster-oidc here; outbound-federation is for destinations in another partition)`,
        ),
      );
    }
  }
  return [...problems, ...targets.flatMap((t) => importedProviderProblems(t, parsed))];
}

function issuerProblems(source: SourceFile, path: FieldPath, url: string): Problem[] {
  if (/^https:\/\/[^/]+:\d+/i.test(url))
    return [source.problem(path, 'has a port, which IAM refuses in an OIDC provider URL (expected https://host or https://host/path)')];
  if (trimSlash(url).length > IAM_PROVIDER_URL_MAX)
    return [source.problem(path, `is longer than the ${IAM_PROVIDER_URL_MAX} characters IAM allows for an OIDC provider URL`)];
  return [];
}

function clientIdProblems(source: SourceFile, path: FieldPath, audience: string | undefined): Problem[] {
  if (audience === undefined || audience.length <= IAM_CLIENT_ID_MAX) return [];
  return [
    source.problem(
      path,
      `is longer than the ${IAM_CLIENT_ID_MAX} characters IAM allows for an OIDC provider's client ID (use a shorter audience, e.g. sts.amazonaws.com)`,
    ),
  ];
}

/**
 * An imported provider must be the one for the issuer the target's role trusts: IAM names a
 * provider `oidc-provider/<issuer host and path>`, so the ARN's path must be exactly that.
 */
function importedProviderProblems(t: Located, build: BuildFile): Problem[] {
  const arn = t.target.oidcProviderArn;
  if (arn === undefined) return [];
  const outbound = usesOutbound(t);
  const issuer = outbound ? build.outboundFederation?.issuerUrl : build.cluster.issuerUrl;
  if (issuer === undefined) return [];
  const expectedPath = trimSlash(issuer).replace(/^https:\/\//i, '');
  // An ARN of another account or partition is reported once, by targetProblems.
  const accountPrefix = `${arnPrefix(t.partition)}iam::${t.target.account}:oidc-provider/`;
  if (!arn.startsWith(accountPrefix)) return [];
  const actualPath = arn.slice(accountPrefix.length);
  if (actualPath === expectedPath) return [];
  const which = outbound
    ? "the build account's outbound issuer (outboundFederation.issuerUrl), which this destination's role trusts"
    : "the cluster's issuer (cluster.issuerUrl), which this role trusts";
  return [
    t.source.problem(
      [...t.path, 'oidcProviderArn'],
      `is a provider for ${actualPath}, not for ${which} (expected an ARN ending oidc-provider/${expectedPath})`,
    ),
  ];
}

/** Only destinations choose a trust path; the build target always trusts the cluster issuer. */
function usesOutbound(t: Located): boolean {
  return 'trust' in t.target && t.target.trust === 'outbound-federation';
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
