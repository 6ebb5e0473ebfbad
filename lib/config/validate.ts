/**
 * Checks that span fields or files, run once every file has the right shape.
 */
import type { BuildFile, DestinationFile, PartitionFile, SharedFile } from './schema';
import { arnPrefix, partition, regionInPartition } from './partitions';
import type { Problem, SourceFile, FieldPath } from './problems';

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
    ...duplicates(targets, (t) => t.target.name, 'name', (first) => `is already used by ${where(first)} (every name must be unique: it becomes the stack, role and ServiceAccount name)`),
    ...duplicates(
      targets,
      (t) => `${t.target.account}/${t.target.region}`,
      'account',
      (first) => `with region ${first.target.region} is listed twice: already at ${where(first)} (list each account and region once)`,
    ),
    ...duplicateRepositories(input.shared),
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
  const facts = partition(t.partition);
  const problems: Problem[] = [];
  if (!regionInPartition(target.region, t.partition)) {
    problems.push(source.problem([...path, 'region'], `is not a region of partition ${t.partition} (expected e.g. ${facts.exampleRegion})`));
  }
  const arnChecks: ['oidcProviderArn' | 'kmsKeyArn' | 'permissionsBoundaryArn', string][] = [
    ['oidcProviderArn', `${arnPrefix(t.partition)}iam::${target.account}:oidc-provider/`],
    ['kmsKeyArn', `${arnPrefix(t.partition)}kms:${target.region}:${target.account}:key/`],
    ['permissionsBoundaryArn', `${arnPrefix(t.partition)}iam::`],
  ];
  for (const [field, prefix] of arnChecks) {
    const value = target[field];
    if (typeof value === 'string' && !value.startsWith(prefix)) {
      problems.push(source.problem([...path, field], `does not belong to this account and partition (expected an ARN starting ${prefix})`));
    }
  }
  return problems;
}

function duplicates(targets: readonly Located[], key: (t: Located) => string, field: string, message: (first: Located) => string): Problem[] {
  const seen = new Map<string, Located>();
  return targets.flatMap((t) => {
    const first = seen.get(key(t));
    if (!first) seen.set(key(t), t);
    return first ? [t.source.problem([...t.path, field], message(first))] : [];
  });
}

function duplicateRepositories({ source, parsed }: Parsed<SharedFile>): Problem[] {
  const seen = new Set<string>();
  const problems = parsed.repositories.flatMap((r, i) => {
    const dup = seen.has(r.name);
    seen.add(r.name);
    return dup ? [source.problem(['repositories', i, 'name'], 'is listed twice (list each repository once)')] : [];
  });
  if (parsed.cacheRepository && seen.has(parsed.cacheRepository)) {
    problems.push(source.problem(['cacheRepository'], 'is also an image repository (the Kaniko cache needs a repository of its own)'));
  }
  return problems;
}
