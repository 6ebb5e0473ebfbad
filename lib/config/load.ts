/**
 * Reads a config directory: build.yaml, shared.yaml and one file per partition.
 * Returns the config with defaults applied, or throws ConfigError listing every problem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { BuildFile, buildFileSchema, DestinationFile, PartitionFile, partitionFileSchema, SharedFile, sharedFileSchema } from './schema';
import { DEFAULTS, FerryConfig, Target } from './model';
import { partition } from './partitions';
import { ConfigError, Problem, SourceFile } from './problems';
import { crossCheck } from './validate';

export const BUILD_FILE = 'build.yaml';
export const SHARED_FILE = 'shared.yaml';

/** The config directory: FERRY_CONFIG, else ./config. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FERRY_CONFIG || 'config');
}

export function loadConfig(dir: string = configDir()): FerryConfig {
  const problems: Problem[] = [];
  const files = readYamlFiles(dir, problems);
  const build = files.get(BUILD_FILE);
  const shared = files.get(SHARED_FILE);
  for (const required of [BUILD_FILE, SHARED_FILE]) {
    if (!files.has(required) && problems.length === 0) {
      problems.push({ file: display(dir, required), path: [], message: `missing file (every config directory needs ${BUILD_FILE} and ${SHARED_FILE}; see config/ in the ferry repository)` });
    }
  }
  const buildFile = build && parseWith(build, buildFileSchema, problems);
  const sharedFile = shared && parseWith(shared, sharedFileSchema, problems);
  const partitionFiles = [...files.entries()]
    .filter(([name]) => name !== BUILD_FILE && name !== SHARED_FILE)
    .map(([, source]) => ({ source, parsed: parseWith(source, partitionFileSchema, problems) }));
  if (problems.length > 0 || !buildFile || !sharedFile || !build) throw new ConfigError(problems);

  const partitions = partitionFiles.filter((f): f is { source: SourceFile; parsed: PartitionFile } => f.parsed !== undefined);
  problems.push(...crossCheck({ build: { source: build, parsed: buildFile }, partitions, shared: { source: shared!, parsed: sharedFile } }));
  if (problems.length > 0) throw new ConfigError(problems);
  return resolve(dir, build, buildFile, partitions, sharedFile);
}

function display(dir: string, name: string): string {
  return path.relative(process.cwd(), path.join(dir, name)) || name;
}

function readYamlFiles(dir: string, problems: Problem[]): Map<string, SourceFile> {
  const files = new Map<string, SourceFile>();
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.push({ file: display(dir, ''), path: [], message: 'is not a config directory (set FERRY_CONFIG or -c config=<dir> to a directory holding build.yaml and shared.yaml)' });
    return files;
  }
  for (const name of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = display(dir, name);
    const source = new SourceFile(file, fs.readFileSync(path.join(dir, name), 'utf8'));
    const syntax = source.doc.errors[0];
    if (syntax) {
      problems.push({ file, path: [], line: source.lineAt(syntax.pos[0]), message: `is not valid YAML (${syntax.message.split('\n')[0]})` });
      continue;
    }
    files.set(name, source);
  }
  return files;
}

function parseWith<T>(source: SourceFile, schema: z.ZodType<T>, problems: Problem[]): T | undefined {
  const result = schema.safeParse(source.doc.toJS() ?? {});
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(...toProblems(source, schema, issue));
  return undefined;
}

function toProblems(source: SourceFile, schema: z.ZodType, issue: z.core.$ZodIssue): Problem[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, at);
    return issue.keys.map((key) => source.problem(at, `unknown key${suggest(key, known)}`, { key, showValue: false }));
  }
  return [source.problem(at, issue.message)];
}

/** The keys the schema allows at a path, for "did you mean". */
function keysAt(schema: z.ZodType, at: readonly (string | number)[]): string[] {
  let node = unwrapOptional(schema);
  for (const step of at) {
    if (node instanceof z.ZodArray && typeof step === 'number') node = unwrapOptional(node.element as z.ZodType);
    else if (node instanceof z.ZodObject && typeof step === 'string') node = unwrapOptional(node.shape[step] as z.ZodType);
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrapOptional(node: z.ZodType): z.ZodType {
  return node instanceof z.ZodOptional ? unwrapOptional(node.unwrap() as z.ZodType) : node;
}

function suggest(key: string, known: string[]): string {
  const best = known.map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best.k}"?)` : ' (remove it; see the config reference in the README)';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function toTarget(kind: Target['kind'], partitionId: string, file: DestinationFile, source: string): Target {
  return {
    kind,
    name: file.name,
    partition: partition(partitionId),
    account: file.account,
    region: file.region,
    fips: file.fips ?? false,
    trust: file.trust ?? DEFAULTS.trust,
    oidcProviderArn: file.oidcProviderArn,
    kmsKeyArn: file.kmsKeyArn,
    permissionsBoundaryArn: file.permissionsBoundaryArn,
    rolePath: file.rolePath ?? DEFAULTS.rolePath,
    tags: file.tags ?? {},
    synthesizer: file.synthesizer ?? DEFAULTS.synthesizer,
    source,
  };
}

function resolve(dir: string, buildSource: SourceFile, build: BuildFile, partitions: { source: SourceFile; parsed: PartitionFile }[], shared: SharedFile): FerryConfig {
  const { partition: buildPartition, cluster, outboundFederation, ...buildTarget } = build;
  return {
    dir,
    cluster: { issuerUrl: cluster.issuerUrl.replace(/\/+$/, ''), namespace: cluster.namespace, audience: cluster.audience ?? DEFAULTS.audience },
    build: toTarget('build', buildPartition, buildTarget, buildSource.file),
    destinations: partitions.flatMap(({ source, parsed }) => parsed.destinations.map((d) => toTarget('destination', parsed.partition, d, source.file))),
    repositories: shared.repositories.map((r) => ({
      name: r.name,
      tagMutability: r.tagMutability ?? DEFAULTS.tagMutability,
      tagMutabilityExclusions: r.tagMutabilityExclusions ?? [...DEFAULTS.tagMutabilityExclusions],
    })),
    untaggedImageExpiryDays: shared.untaggedImageExpiryDays ?? DEFAULTS.untaggedImageExpiryDays,
    cacheRepository: shared.cacheRepository ?? DEFAULTS.cacheRepository,
    images: {
      kaniko: shared.images?.kaniko ?? DEFAULTS.images.kaniko,
      pusher: shared.images?.pusher,
      git: shared.images?.git ?? DEFAULTS.images.git,
      notify: shared.images?.notify ?? DEFAULTS.images.notify,
    },
    workspace: {
      size: shared.workspace?.size ?? DEFAULTS.workspace.size,
      storageClassName: shared.workspace?.storageClassName,
      accessMode: shared.workspace?.accessMode ?? DEFAULTS.workspace.accessMode,
    },
    outboundFederation: outboundFederation && {
      issuerUrl: outboundFederation.issuerUrl.replace(/\/+$/, ''),
      audience: outboundFederation.audience ?? DEFAULTS.outboundFederation.audience,
      tokenDurationSeconds: outboundFederation.tokenDurationSeconds ?? DEFAULTS.outboundFederation.tokenDurationSeconds,
    },
    sync: {
      enabled: shared.sync?.enabled ?? DEFAULTS.sync.enabled,
      schedule: shared.sync?.schedule ?? DEFAULTS.sync.schedule,
      tags: shared.sync?.tags ?? DEFAULTS.sync.tags,
    },
    slack: shared.notifications?.slack && { secretName: shared.notifications.slack.secretName, secretKey: shared.notifications.slack.secretKey ?? DEFAULTS.slackSecretKey },
  };
}
