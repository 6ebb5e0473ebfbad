/**
 * `ferry push <image> --to <ref>[=<role-arn>] ...`: argument and environment handling,
 * the run over every destination in parallel, the summary and the exit code
 * (0 all delivered, 1 some destination failed, 2 bad input or usage).
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { parseEcrHost } from '../config/partitions';
import { Authenticator, Env, TRUST_OPTIONS, TRUST_USAGE, TrustSettings, checkFederatedRole, credentialSourceFor, parseTrust } from './authn';
import { EXIT, InputError, errorMessage } from './errors';
import { Image, isDigest } from './image';
import { openImage } from './load';
import { Progress, createProgress } from './progress';
import { Reference, formatReference, parseReference } from './reference';
import { Registry } from './registry';
import { DestinationResult, pushImage } from './remote';
import { Transport } from './transport';

export const USAGE = `Usage: ferry push <image> [--to <ref>[=<role-arn>] ...] [options]

Pushes a container image, byte for byte, to one or more registries.

<image>   a Kaniko --tar-path tarball, a docker save / docker-archive tarball,
          or an OCI image layout (directory or tar)
<ref>     host[:port]/repository[:tag|@sha256:<digest>]  (tag defaults to latest)

Options:
  --to <ref>[=<role-arn>]       destination, repeatable; default: the image's RepoTags.
                                =<role-arn> reaches that IAM role (see --trust) to get the
                                ECR token for this destination
  --jobs <n>                    parallel blob uploads per destination (default 4)
  --retries <n>                 retries on connection errors, 408, 429, 5xx (default 3)
  --expect-digest <sha256:...>  refuse to push unless the manifest digest is this
  --digest-file <path>          write the manifest digest to this file
  --json                        write a JSON summary to stdout
  --insecure-registry <host:port>  allow plain HTTP or unverified TLS for this host only;
                                repeatable
  --ca-file <path>              trust this PEM CA certificate too; repeatable
  -h, --help                    show this help

${TRUST_USAGE}

A dkr.ecr-fips.* registry makes every AWS call of that destination (STS and ECR) use
AWS's FIPS endpoints. Each AWS endpoint called is logged as "aws endpoint: <host>".

The environment fills in what the arguments leave out (the seed's container contract):
IMAGE_TAR is the image when none is given, IMAGE_URI the destination(s), comma-separated,
when no --to is given. AWS_ECR_ENDPOINT names a registry host to treat as ECR.

Exit codes: 0 every destination holds the image; 1 some destination failed;
2 bad input or usage.`;

export interface CliContext {
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

interface Destination {
  readonly ref: Reference;
  readonly roleArn?: string;
}

interface Settings {
  readonly image: string;
  readonly destinations: readonly Destination[];
  readonly jobs: number;
  readonly retries: number;
  readonly expectDigest?: string;
  readonly digestFile?: string;
  readonly json: boolean;
  readonly insecure: ReadonlySet<string>;
  readonly ca: readonly string[];
  readonly trust: TrustSettings;
}

const ROLE_ARN = /^arn:([a-z-]+):iam::\d{12}:role\/[\w+=,.@/-]+$/;

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** `REF=ROLE_ARN`: references never contain "=", so the first one splits. */
export function parseDestination(arg: string): Destination {
  const eq = arg.indexOf('=');
  const ref = parseReference(eq < 0 ? arg : arg.slice(0, eq));
  if (eq < 0) return { ref };
  const roleArn = arg.slice(eq + 1);
  const m = ROLE_ARN.exec(roleArn);
  if (!m) throw new InputError(`--to ${arg}: "${roleArn}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`);
  const ecr = parseEcrHost(ref.registry);
  if (ecr && ecr.partition.id !== m[1]) {
    throw new InputError(`--to ${arg}: the role is in partition ${m[1]} but ${ref.registry} is in ${ecr.partition.id}; roles cannot cross partitions`);
  }
  return { ref, roleArn };
}

function readCaFiles(paths: readonly string[]): string[] {
  return paths.map((p) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch (err) {
      throw new InputError(`--ca-file ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    }
  });
}

/**
 * The seed's container contract: IMAGE_TAR and IMAGE_URI stand in for the image and the --to
 * refs the arguments leave out, so the Argo template can pass flags and keep paths in env.
 */
function withEnvironment(image: string | undefined, to: string[] | undefined, env: Env): { image: string; to: string[] } {
  const resolved = image ?? env.IMAGE_TAR;
  if (!resolved) throw new InputError('no image given and IMAGE_TAR is not set; usage: ferry push <image> --to <ref> (see --help)');
  return { image: resolved, to: to ?? (env.IMAGE_URI ?? '').split(/[,\s]+/).filter(Boolean) };
}

function parseSettings(argv: readonly string[], env: Env): Settings | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        to: { type: 'string', multiple: true },
        jobs: { type: 'string' },
        retries: { type: 'string' },
        'expect-digest': { type: 'string' },
        'digest-file': { type: 'string' },
        json: { type: 'boolean' },
        'insecure-registry': { type: 'string', multiple: true },
        'ca-file': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        ...TRUST_OPTIONS,
      },
    });
  } catch (err) {
    throw new InputError(`${errorMessage(err)} (see ferry push --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 1) throw new InputError(`expected one image path, got ${positionals.length} (see ferry push --help)`);
  const { image, to } = withEnvironment(positionals[0], values.to, env);
  const expectDigest = values['expect-digest'];
  if (expectDigest !== undefined && !isDigest(expectDigest)) throw new InputError(`--expect-digest "${expectDigest}" is not sha256:<64 hex digits>`);
  const trust = parseTrust(values, env);
  const destinations = to.map(parseDestination);
  for (const d of destinations) if (d.roleArn) checkFederatedRole(trust, d.roleArn, d.roleArn.split(':')[1]);
  return {
    image,
    destinations,
    trust,
    jobs: integer('jobs', values.jobs, 4, 1, 64),
    retries: integer('retries', values.retries, 3, 0, 20),
    expectDigest,
    digestFile: values['digest-file'],
    json: values.json ?? false,
    insecure: new Set((values['insecure-registry'] ?? []).map((h) => h.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''))),
    ca: readCaFiles(values['ca-file'] ?? []),
  };
}

function defaultDestinations(image: Image, location: string): Destination[] {
  if (image.repoTags.length === 0) throw new InputError(`${location} records no RepoTags; name a destination with --to <ref>`);
  return image.repoTags.map((tag) => ({ ref: parseReference(tag) }));
}

/** One Registry (auth + token cache + mount bookkeeping) per host and role. */
function registriesFor(destinations: readonly Destination[], transport: Transport, env: Env, trust: TrustSettings, log: (line: string) => void): Registry[] {
  const byKey = new Map<string, Registry>();
  return destinations.map(({ ref, roleArn }) => {
    const key = `${ref.registry} ${roleArn ?? ''}`;
    let registry = byKey.get(key);
    if (!registry) {
      registry = new Registry(ref.registry, transport, new Authenticator(ref.registry, transport, credentialSourceFor(ref.registry, env, roleArn, { trust, log })));
      byKey.set(key, registry);
    }
    return registry;
  });
}

function exitCode(results: readonly DestinationResult[]): number {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT.ok;
  return failed.every((r) => r.inputError) ? EXIT.badInput : EXIT.destinationFailed;
}

function summaryJson(digest: string, results: readonly DestinationResult[]): string {
  const destinations = results.map(({ inputError: _, ...r }) => r);
  return `${JSON.stringify({ digest, destinations }, null, 2)}\n`;
}

function report(progress: Progress, results: readonly DestinationResult[]): void {
  for (const r of results) {
    const counts = `${r.blobs.pushed} pushed, ${r.blobs.mounted} mounted, ${r.blobs.skipped} skipped`;
    progress.log(r.ok ? `${r.ref}: done, ${r.digest} (${counts}) in ${r.seconds}s` : `${r.ref}: FAILED: ${r.error}`);
  }
}

async function push(settings: Settings, ctx: CliContext, progress: Progress): Promise<number> {
  const image = await openImage(settings.image, { jobs: settings.jobs });
  const transport = new Transport({ retries: settings.retries, insecureHosts: settings.insecure, ca: settings.ca, log: (line) => progress.log(line) });
  try {
    const digest = image.manifest.digest;
    if (settings.expectDigest && settings.expectDigest !== digest) {
      throw new InputError(`${settings.image}: manifest digest is ${digest}, but --expect-digest says ${settings.expectDigest}; nothing pushed`);
    }
    const destinations = settings.destinations.length ? settings.destinations : defaultDestinations(image, settings.image);
    const registries = registriesFor(destinations, transport, ctx.env, settings.trust, (line) => progress.log(line));
    progress.log(`pushing ${settings.image} (${digest}) to ${destinations.map((d) => formatReference(d.ref)).join(', ')}`);
    const results = await Promise.all(destinations.map((d, i) => pushImage(image, d.ref, registries[i], { jobs: settings.jobs, progress })));
    report(progress, results);
    if (settings.digestFile && results.some((r) => r.ok)) fs.writeFileSync(settings.digestFile, digest);
    if (settings.json) ctx.stdout.write(summaryJson(digest, results));
    return exitCode(results);
  } finally {
    transport.close();
    image.dispose();
  }
}

export async function main(argv: readonly string[], ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const progress = createProgress(ctx.stderr);
  try {
    const settings = parseSettings(argv, ctx.env);
    if (settings === 'help') {
      ctx.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    return await push(settings, ctx, progress);
  } catch (err) {
    progress.log(`ferry push: ${errorMessage(err)}`);
    return err instanceof InputError ? EXIT.badInput : EXIT.destinationFailed;
  } finally {
    progress.close();
  }
}
