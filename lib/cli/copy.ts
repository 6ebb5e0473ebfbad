/**
 * `ferry copy <src-ref>[=<role-arn>] --to <ref>[=<role-arn>] ...`: arguments, the copy,
 * the summary and the exit code, on the same options, trust, deadlines, retries and exit
 * codes as `ferry push` (0 every destination holds the image, 1 some destination failed
 * and may succeed later, 2 nothing a retry can fix, e.g. bad input or a corrupt source).
 */

import { InputError } from '../common/errors';
import { copyImage } from '../operations/copy';
import { type Env, parseTrust, TRUST_OPTIONS, TRUST_USAGE, type TrustSettings } from '../registry/authn';
import type { Progress } from '../registry/progress';
import { formatReference } from '../registry/reference';
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
  reportResults,
  runCommand,
  withRun,
  writeDigestFile,
} from './shared';

export const USAGE = `Usage: ferry copy <src-ref>[=<role-arn>] --to <ref>[=<role-arn>] [--to ...] [options]

Copies an image from one registry to others, byte for byte: the manifest as stored (an
index and every platform manifest in it), every blob, and its referrers (signatures,
SBOMs, attestations). Each blob is downloaded once, checked against its digest as it
passes, and streamed to every destination that lacks it; nothing touches the disk.
Each destination is then read back by tag and by digest.

<src-ref>  host[:port]/repository:tag or host[:port]/repository@sha256:<digest>
<ref>      host[:port]/repository[:tag|@sha256:<digest>]  (tag defaults to latest;
           @digest copies without tagging)
=<role-arn>  get the ECR token of that registry through this IAM role. On a --to, the
           role is reached the way --trust says; on the source, always with the pod's
           web identity token (cluster-oidc). A source without a role is read with the
           default AWS credentials (the pod's IRSA role).

Options:
  --to <ref>[=<role-arn>]       destination, repeatable (at least one)
${DIGEST_USAGE}
  --no-referrers                do not copy signatures, SBOMs and attestations along
${COMMON_USAGE}

${TRUST_USAGE}

Credentials, per registry: ECR (by host name, or AWS_ECR_ENDPOINT) through the default AWS
credentials or the =<role-arn>; else Docker config.json ($DOCKER_CONFIG); else anonymous.
A dkr.ecr-fips.* registry makes every AWS call of that registry use AWS's FIPS endpoints.

${RETRIES_USAGE} A blob's transfer to one destination (its download and
upload) is one operation: a retry reads the blob from the source again.

Exit codes: 0 every destination holds the image; 1 some destination failed in a way a
later attempt may fix; 2 nothing a retry can fix (bad input or usage, a corrupt source,
TLS or plain-HTTP refusal, an immutable tag already at another digest); nothing was tagged
where the source was corrupt.`;

interface CopySettings extends CommonSettings, DigestSettings {
  readonly source: RoleRef;
  readonly targets: readonly RoleRef[];
  readonly referrers: boolean;
  readonly trust: TrustSettings;
}

const COPY_OPTIONS = {
  ...COMMON_OPTIONS,
  ...TRUST_OPTIONS,
  ...DIGEST_OPTIONS,
  to: { type: 'string', multiple: true },
  'no-referrers': { type: 'boolean' },
} as const;

function parseCopyArgs(argv: readonly string[], env: Env): CopySettings | 'help' {
  const { values, positionals } = parseCommandLine(argv, COPY_OPTIONS, 'ferry copy');
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new InputError(`expected one source reference, got ${positionals.length} (see ferry copy --help)`);
  if (!values.to?.length) throw new InputError('no destination: name one or more with --to <ref> (see ferry copy --help)');
  const digests = parseDigestOptions(values);
  const trust = parseTrust(values, env);
  const targets = values.to.map((arg) => parseDestination(arg, env));
  checkDestinationRoles(trust, targets);
  return {
    ...parseCommon(values, env),
    ...digests,
    source: parseDestination(positionals[0], env, 'source'),
    targets,
    trust,
    referrers: !values['no-referrers'],
  };
}

function copy(settings: CopySettings, ctx: CliContext, progress: Progress): Promise<number> {
  return withRun(settings, settings.trust, ctx, progress, async ({ registries, deadline }) => {
    const source = { ref: settings.source.ref, registry: registries.source(settings.source) };
    const targets = settings.targets.map((t) => ({ ref: t.ref, registry: registries.destination(t) }));
    const outcome = await copyImage(source, targets, {
      jobs: settings.jobs,
      progress,
      referrers: settings.referrers,
      expectDigest: settings.expectDigest,
      deadline,
    });
    reportResults(progress, outcome.results);
    writeDigestFile(settings, outcome.digest, outcome.results);
    if (settings.json) {
      const summary = { source: formatReference(settings.source.ref), digest: outcome.digest ?? null, destinations: destinationsJson(outcome.results) };
      ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    }
    return exitCode(outcome.results);
  });
}

export const COPY: Command<CopySettings> = { name: 'ferry copy', usage: USAGE, parse: parseCopyArgs, run: copy };

export function main(argv: readonly string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(COPY, argv, ctx);
}
