/**
 * `ferry push <image> --to <ref>[=<role-arn>] ...`: argument and environment handling,
 * preflight (every flag, output path, CA file and credential source checked before the
 * first upload), the run over every destination in parallel under one deadline, the
 * summary and the exit code (errors.ts EXIT).
 */

import { InputError } from '../common/errors';
import type { Image } from '../image/image';
import { openImage } from '../image/load';
import { type Env, parseTrust, TRUST_OPTIONS, TRUST_USAGE, type TrustSettings } from '../registry/authn';
import type { Progress } from '../registry/progress';
import { formatReference, parseReference } from '../registry/reference';
import { pushImage } from '../registry/remote';
import { COMMON_OPTIONS, COMMON_USAGE, type CommonSettings, parseCommandLine, parseCommon, RETRIES_USAGE } from './options';
import {
  type CliContext,
  type Command,
  checkDestinationRoles,
  DIGEST_OPTIONS,
  DIGEST_USAGE,
  type DigestSettings,
  destinationsJson,
  exitCode,
  PROCESS_CONTEXT,
  parseDestination,
  parseDigestOptions,
  type RoleRef,
  type Run,
  reportResults,
  runCommand,
  withRun,
  writeDigestFile,
} from './shared';

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
${DIGEST_USAGE}
${COMMON_USAGE}

${TRUST_USAGE}

A dkr.ecr-fips.* registry makes every AWS call of that destination (STS and ECR) use
AWS's FIPS endpoints. Each AWS endpoint called is logged as "aws endpoint: <host>".

The environment fills in what the arguments leave out: IMAGE_TAR is the image when none
is given, IMAGE_URI the destination(s), comma-separated, when no --to is given.
AWS_ECR_ENDPOINT names a registry host to treat as ECR. This is the environment contract
of the pusher image run with no arguments (its CMD is "push"), kept for the push wrapper
that image replaces; the Argo templates run ferry copy with arguments instead.
FERRY_TIMEOUT is --timeout when the flag is not given.

${RETRIES_USAGE}

Exit codes: 0 every destination holds the image; 1 some destination failed in a way a
later run may fix (network, 5xx, throttling, timeouts, authorization); 2 nothing a retry
can fix (bad input, flags or configuration, TLS or plain-HTTP refusal, an immutable tag
already at another digest, a malformed archive).`;

interface Settings extends CommonSettings, DigestSettings {
  readonly image: string;
  readonly destinations: readonly RoleRef[];
  readonly trust: TrustSettings;
}

const PUSH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...TRUST_OPTIONS,
  ...DIGEST_OPTIONS,
  to: { type: 'string', multiple: true },
} as const;

/**
 * The pusher image's environment contract (run with no arguments, its CMD is `push`), kept
 * for the push wrapper the image replaces: IMAGE_TAR and IMAGE_URI stand in for the image
 * and the --to refs the arguments leave out.
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
  const digests = parseDigestOptions(values);
  const trust = parseTrust(values, env);
  const destinations = to.map((arg) => parseDestination(arg, env));
  checkDestinationRoles(trust, destinations);
  return { ...parseCommon(values, env), ...digests, image, destinations, trust };
}

function defaultDestinations(image: Image, location: string): RoleRef[] {
  if (image.repoTags.length === 0) throw new InputError(`${location} records no RepoTags; name a destination with --to <ref>`);
  return image.repoTags.map((tag) => ({ ref: parseReference(tag) }));
}

async function pushTo(image: Image, settings: Settings, ctx: CliContext, progress: Progress, run: Run): Promise<number> {
  const digest = image.manifest.digest;
  if (settings.expectDigest && settings.expectDigest !== digest) {
    throw new InputError(`${settings.image}: manifest digest is ${digest}, but --expect-digest says ${settings.expectDigest}; nothing pushed`);
  }
  const destinations = settings.destinations.length ? settings.destinations : defaultDestinations(image, settings.image);
  const registries = destinations.map((d) => run.registries.destination(d));
  progress.log(`pushing ${settings.image} (${digest}) to ${destinations.map((d) => formatReference(d.ref)).join(', ')}`);
  const results = await Promise.all(
    destinations.map((d, i) => pushImage(image, d.ref, registries[i], { jobs: settings.jobs, progress, deadline: run.deadline })),
  );
  reportResults(progress, results);
  writeDigestFile(settings, digest, results);
  if (settings.json) ctx.stdout.write(`${JSON.stringify({ digest, destinations: destinationsJson(results) }, null, 2)}\n`);
  return exitCode(results);
}

function push(settings: Settings, ctx: CliContext, progress: Progress): Promise<number> {
  return withRun(settings, settings.trust, ctx, progress, async (run) => {
    const image = await openImage(settings.image, { jobs: settings.jobs });
    try {
      return await pushTo(image, settings, ctx, progress, run);
    } finally {
      image.dispose();
    }
  });
}

export const PUSH: Command<Settings> = { name: 'ferry push', usage: USAGE, parse: parseSettings, run: push };

export function main(argv: readonly string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(PUSH, argv, ctx);
}
