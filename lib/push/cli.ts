/**
 * `ferry push <image> --to <ref>[=<role-arn>] ...`: argument and environment handling,
 * preflight (every flag, output path, CA file and credential source checked before the
 * first upload), the run over every destination in parallel under one deadline, the
 * summary and the exit code (errors.ts EXIT).
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { parseEcrHost } from '../config/partitions';
import { Authenticator, Env, TRUST_OPTIONS, TRUST_USAGE, TrustSettings, checkFederatedRole, credentialSourceFor, ecrTargetOf, parseTrust } from './authn';
import { EXIT, InputError, errorMessage, isUnfixable } from './errors';
import { Image, isDigest } from './image';
import { openImage } from './load';
import { COMMON_OPTIONS, COMMON_USAGE, CommonSettings, checkWritable, createDeadline, createTransport, parseCommandLine, parseCommon } from './options';
import { Progress, createProgress } from './progress';
import { Reference, formatReference, parseReference } from './reference';
import { Registry } from './registry';
import { DestinationResult, pushImage } from './remote';
import { Transport } from './transport';

export const USAGE = `Usage: ferry push <image> [--to <ref>[=<role-arn>] ...] [options]

Pushes a container image, byte for byte, to one or more registries, then reads each
destination back by tag and by digest.

<image>   a Kaniko --tar-path tarball, a docker save / docker-archive tarball,
          or an OCI image layout (directory or tar)
<ref>     host[:port]/repository[:tag|@sha256:<digest>]  (tag defaults to latest)

Options:
  --to <ref>[=<role-arn>]       destination, repeatable; default: the image's RepoTags.
                                =<role-arn> reaches that IAM role (see --trust) to get the
                                ECR token for this destination
  --expect-digest <sha256:...>  refuse to push unless the manifest digest is this
  --digest-file <path>          write the manifest digest to this file (checked writable first)
${COMMON_USAGE}

${TRUST_USAGE}

A dkr.ecr-fips.* registry makes every AWS call of that destination (STS and ECR) use
AWS's FIPS endpoints. Each AWS endpoint called is logged as "aws endpoint: <host>".

The environment fills in what the arguments leave out (the Argo step's contract):
IMAGE_TAR is the image when none is given, IMAGE_URI the destination(s), comma-separated,
when no --to is given. AWS_ECR_ENDPOINT names a registry host to treat as ECR.
FERRY_TIMEOUT is --timeout when the flag is not given.

Retries: connection errors, request timeouts, 408, 429 and 5xx, at most --retries times
per operation (one blob upload, one manifest PUT, one HEAD), waiting 1 s, 2 s, 4 s ... (with
jitter, at most 30 s; Retry-After may lengthen a wait up to 60 s). A request fails when it
cannot connect, gets no answer, or moves fewer than 1 KB/s.

Exit codes: 0 every destination holds the image; 1 some destination failed in a way a
later run may fix (network, 5xx, throttling, timeouts, authorization); 2 nothing a retry
can fix (bad input, flags or configuration, TLS or plain-HTTP refusal, an immutable tag
already at another digest, a malformed archive).`;

export interface CliContext {
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

interface Destination {
  readonly ref: Reference;
  readonly roleArn?: string;
}

interface Settings extends CommonSettings {
  readonly image: string;
  readonly destinations: readonly Destination[];
  readonly expectDigest?: string;
  readonly digestFile?: string;
  readonly trust: TrustSettings;
}

const ROLE_ARN = /^arn:([a-z-]+):iam::\d{12}:role\/[\w+=,.@/-]+$/;

const PUSH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...TRUST_OPTIONS,
  to: { type: 'string', multiple: true },
  'expect-digest': { type: 'string' },
  'digest-file': { type: 'string' },
} as const;

/** `REF=ROLE_ARN`: references never contain "=", so the first one splits. */
export function parseDestination(arg: string, env: Env = {}): Destination {
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
  if (!ecr && !ecrTargetOf(ref.registry, env)) {
    throw new InputError(`--to ${arg}: a role ARN only works with an ECR registry, and ${ref.registry} is not one (set AWS_ECR_ENDPOINT=${ref.registry} if it is)`);
  }
  return { ref, roleArn };
}

/**
 * The Argo step's contract: IMAGE_TAR and IMAGE_URI stand in for the image and the --to
 * refs the arguments leave out, so the template can pass flags and keep paths in env.
 */
function withEnvironment(image: string | undefined, to: string[] | undefined, env: Env): { image: string; to: string[] } {
  const resolved = image ?? env.IMAGE_TAR;
  if (!resolved) throw new InputError('no image given and IMAGE_TAR is not set; usage: ferry push <image> --to <ref> (see --help)');
  return { image: resolved, to: to ?? (env.IMAGE_URI ?? '').split(/[,\s]+/).filter(Boolean) };
}

function parseSettings(argv: readonly string[], env: Env): Settings | 'help' {
  const { values, positionals } = parseCommandLine(argv, PUSH_OPTIONS, 'ferry push');
  if (values.help) return 'help';
  if (positionals.length > 1) throw new InputError(`expected one image path, got ${positionals.length} (see ferry push --help)`);
  const { image, to } = withEnvironment(positionals[0], values.to, env);
  const expectDigest = values['expect-digest'];
  if (expectDigest !== undefined && !isDigest(expectDigest)) throw new InputError(`--expect-digest "${expectDigest}" is not sha256:<64 hex digits>`);
  const digestFile = values['digest-file'];
  if (digestFile !== undefined) checkWritable('--digest-file', digestFile);
  const trust = parseTrust(values, env);
  const destinations = to.map((arg) => parseDestination(arg, env));
  for (const d of destinations) if (d.roleArn) checkFederatedRole(trust, d.roleArn, d.roleArn.split(':')[1]);
  return { ...parseCommon(values, env), image, destinations, trust, expectDigest, digestFile };
}

function defaultDestinations(image: Image, location: string): Destination[] {
  if (image.repoTags.length === 0) throw new InputError(`${location} records no RepoTags; name a destination with --to <ref>`);
  return image.repoTags.map((tag) => ({ ref: parseReference(tag) }));
}

/**
 * One Registry (auth + token cache + mount bookkeeping) per host and role. Setting up a
 * credential source reads configuration (config.json, AWS_REGION): a failure there is
 * the user's to fix, so it is an InputError.
 */
function registriesFor(destinations: readonly Destination[], transport: Transport, env: Env, trust: TrustSettings, log: (line: string) => void): Registry[] {
  const byKey = new Map<string, Registry>();
  return destinations.map(({ ref, roleArn }) => {
    const key = `${ref.registry} ${roleArn ?? ''}`;
    let registry = byKey.get(key);
    if (!registry) {
      let source;
      try {
        source = credentialSourceFor(ref.registry, env, roleArn, { trust, log });
      } catch (err) {
        throw new InputError(`credentials for ${ref.registry}: ${errorMessage(err)}`);
      }
      registry = new Registry(ref.registry, transport, new Authenticator(ref.registry, transport, source));
      byKey.set(key, registry);
    }
    return registry;
  });
}

/** 2 only when every failure is one no retry can fix; a later run may still deliver the others. */
function exitCode(results: readonly DestinationResult[]): number {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT.ok;
  return failed.every((r) => r.unfixable) ? EXIT.badInput : EXIT.destinationFailed;
}

function summaryJson(digest: string, results: readonly DestinationResult[]): string {
  const destinations = results.map(({ unfixable: _, ...r }) => r);
  return `${JSON.stringify({ digest, destinations }, null, 2)}\n`;
}

function report(progress: Progress, results: readonly DestinationResult[]): void {
  for (const r of results) {
    const counts = `${r.blobs.pushed} pushed, ${r.blobs.mounted} mounted, ${r.blobs.skipped} skipped`;
    progress.log(r.ok ? `${r.ref}: done, ${r.digest} (${counts}) in ${r.seconds}s` : `${r.ref}: FAILED: ${r.error}`);
  }
}

async function push(settings: Settings, ctx: CliContext, progress: Progress): Promise<number> {
  const deadline = createDeadline(settings);
  const image = await openImage(settings.image, { jobs: settings.jobs });
  const transport = createTransport(settings, (line) => progress.log(line));
  try {
    const digest = image.manifest.digest;
    if (settings.expectDigest && settings.expectDigest !== digest) {
      throw new InputError(`${settings.image}: manifest digest is ${digest}, but --expect-digest says ${settings.expectDigest}; nothing pushed`);
    }
    const destinations = settings.destinations.length ? settings.destinations : defaultDestinations(image, settings.image);
    const registries = registriesFor(destinations, transport, ctx.env, settings.trust, (line) => progress.log(line));
    progress.log(`pushing ${settings.image} (${digest}) to ${destinations.map((d) => formatReference(d.ref)).join(', ')}`);
    const results = await Promise.all(destinations.map((d, i) => pushImage(image, d.ref, registries[i], { jobs: settings.jobs, progress, deadline })));
    report(progress, results);
    if (settings.digestFile && results.some((r) => r.ok)) fs.writeFileSync(settings.digestFile, digest);
    if (settings.json) ctx.stdout.write(summaryJson(digest, results));
    return exitCode(results);
  } finally {
    deadline.dispose();
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
    return isUnfixable(err) ? EXIT.badInput : EXIT.destinationFailed;
  } finally {
    progress.close();
  }
}
