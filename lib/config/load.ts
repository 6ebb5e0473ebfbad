/**
 * Reads a config directory: build.yaml, shared.yaml and one file per partition.
 * Returns the config with defaults applied, or throws ConfigError listing every problem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import type { FerryConfig, Target } from './model';
import { partition } from './partitions';
import { ConfigError, issueProblems, type Problem, SourceFile, userMessage } from './problems';
import {
  BUILD_FILE,
  type BuildFile,
  DEFAULTS,
  type DestinationFile,
  type FileKind,
  fileKind,
  type PartitionFile,
  SCHEMAS_BY_KIND,
  SHARED_FILE,
  type SharedFile,
} from './schema';
import { crossCheck } from './validate';

export { BUILD_FILE, SHARED_FILE };

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
      problems.push({
        file: display(dir, required),
        path: [],
        message: `missing file (every config directory needs ${BUILD_FILE} and ${SHARED_FILE}; see config/ in the ferry repository)`,
      });
    }
  }
  const parse = <K extends FileKind>(kind: K, source: SourceFile) =>
    parseWith(source, SCHEMAS_BY_KIND[kind], problems) as z.output<(typeof SCHEMAS_BY_KIND)[K]> | undefined;
  const buildFile = build && parse('build', build);
  const sharedFile = shared && parse('shared', shared);
  const partitionFiles = [...files.entries()]
    .filter(([name]) => fileKind(name) === 'partition')
    .map(([, source]) => ({ source, parsed: parse('partition', source) }));
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
    problems.push({
      file: display(dir, ''),
      path: [],
      message: 'is not a config directory (set FERRY_CONFIG or -c config=<dir> to a directory holding build.yaml and shared.yaml)',
    });
    return files;
  }
  for (const name of fs
    .readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
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

function parseWith(source: SourceFile, schema: z.ZodType, problems: Problem[]): unknown {
  const result = schema.safeParse(source.doc.toJS() ?? {}, { error: userMessage });
  if (result.success) return result.data;
  for (const issue of result.error.issues) problems.push(...issueProblems(source, schema, issue));
  return undefined;
}

function toTarget(kind: Target['kind'], partitionId: string, file: BuildFile | DestinationFile, source: string): Target {
  const { partition: _partition, cluster: _cluster, outboundFederation: _outbound, ...fields } = file as BuildFile & DestinationFile;
  return { kind, ...fields, trust: 'trust' in file ? file.trust : DEFAULTS.trust, partition: partition(partitionId), source };
}

function resolve(
  dir: string,
  buildSource: SourceFile,
  build: BuildFile,
  partitions: { source: SourceFile; parsed: PartitionFile }[],
  shared: SharedFile,
): FerryConfig {
  const { cluster, outboundFederation } = build;
  return {
    dir,
    cluster: { ...cluster, issuerUrl: withoutTrailingSlash(cluster.issuerUrl) },
    build: toTarget('build', build.partition, build, buildSource.file),
    destinations: partitions.flatMap(({ source, parsed }) => parsed.destinations.map((d) => toTarget('destination', parsed.partition, d, source.file))),
    repositories: shared.repositories,
    repositoryPrefixes: shared.repositoryPrefixes,
    untaggedImageExpiryDays: shared.untaggedImageExpiryDays,
    cacheRepository: shared.cacheRepository,
    cacheTagMutability: shared.cacheTagMutability,
    images: shared.images,
    workspace: shared.workspace,
    outboundFederation: outboundFederation && { ...outboundFederation, issuerUrl: withoutTrailingSlash(outboundFederation.issuerUrl) },
    sync: shared.sync,
    slack: shared.notifications?.slack,
  };
}

/** An issuer is the `iss` claim exactly, which never ends in a slash. */
function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
