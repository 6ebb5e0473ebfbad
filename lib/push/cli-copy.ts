/**
 * `ferry copy <src-ref>[=<role-arn>] --to <ref>[=<role-arn>] ...`: arguments, the copy,
 * the summary and the exit code (0 every destination holds the image, 1 some destination
 * failed and may succeed later, 2 bad input or a corrupt source).
 */
import * as fs from 'node:fs';
import { parseDestination } from './cli';
import { CliContext, RegistryPool, TRUST_OPTIONS, TRUST_USAGE, exitCode, parseTrust, startDeadline } from './cli-shared';
import { CopyOutcome, copyImage } from './copy';
import { EXIT, InputError, errorMessage } from './errors';
import { isDigest } from './image';
import { COMMON_OPTIONS, COMMON_USAGE, CommonSettings, checkWritable, createTransport, parseCommandLine, parseCommon } from './options';
import { Progress, createProgress } from './progress';
import { formatReference } from './reference';

export const USAGE = `Usage: ferry copy <src-ref>[=<role-arn>] --to <ref>[=<role-arn>] [--to ...] [options]

Copies an image from one registry to others, byte for byte: the manifest as stored (an
index and every platform manifest in it), every blob, and its referrers (signatures,
SBOMs, attestations). Each blob is downloaded once, checked against its digest as it
passes, and streamed to every destination that lacks it; nothing touches the disk.

<src-ref>  host[:port]/repository:tag or host[:port]/repository@sha256:<digest>
<ref>      host[:port]/repository[:tag|@sha256:<digest>]  (tag defaults to latest;
           @digest copies without tagging)
=<role-arn>  get the ECR token of that registry through this IAM role (source or
           destination), assumed with the pod's web identity token

Options:
  --to <ref>[=<role-arn>]       destination, repeatable (at least one)
  --expect-digest <sha256:...>  refuse to copy unless the source manifest has this digest
  --digest-file <path>          write the manifest digest to this file
  --no-referrers                do not copy signatures, SBOMs and attestations along
${COMMON_USAGE}

${TRUST_USAGE}

Credentials, per registry: ECR (by host name, or AWS_ECR_ENDPOINT) through the default AWS
credentials or the =<role-arn>; else Docker config.json ($DOCKER_CONFIG); else anonymous.

Exit codes: 0 every destination holds the image; 1 some destination failed in a way a
later attempt may fix; 2 bad input or usage, or a corrupt source (nothing was tagged).`;

interface CopyArgs {
  readonly source: ReturnType<typeof parseDestination>;
  readonly targets: ReturnType<typeof parseDestination>[];
  readonly expectDigest?: string;
  readonly digestFile?: string;
  readonly referrers: boolean;
  readonly common: CommonSettings;
}

function parseCopyArgs(argv: readonly string[], env: CliContext['env']): CopyArgs | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    ...COMMON_OPTIONS,
    ...TRUST_OPTIONS,
    to: { type: 'string', multiple: true },
    'expect-digest': { type: 'string' },
    'digest-file': { type: 'string' },
    'no-referrers': { type: 'boolean' },
  }, 'ferry copy');
  if (values.help) return 'help';
  parseTrust(values, env);
  if (positionals.length !== 1) throw new InputError(`expected one source reference, got ${positionals.length} (see ferry copy --help)`);
  if (!values.to?.length) throw new InputError('no destination: name one or more with --to <ref> (see ferry copy --help)');
  const expectDigest = values['expect-digest'];
  if (expectDigest !== undefined && !isDigest(expectDigest)) throw new InputError(`--expect-digest "${expectDigest}" is not sha256:<64 hex digits>`);
  const digestFile = values['digest-file'];
  if (digestFile) checkWritable('--digest-file', digestFile);
  return {
    source: parseDestination(positionals[0]),
    targets: values.to.map(parseDestination),
    expectDigest,
    digestFile,
    referrers: !values['no-referrers'],
    common: parseCommon(values, env),
  };
}

function report(progress: Progress, outcome: CopyOutcome): void {
  for (const r of outcome.results) {
    const counts = `${r.blobs.pushed} pushed, ${r.blobs.mounted} mounted, ${r.blobs.skipped} skipped${r.referrers ? `, ${r.referrers} referrers` : ''}`;
    progress.log(r.ok ? `${r.ref}: done, ${r.digest} (${counts}) in ${r.seconds}s` : `${r.ref}: FAILED: ${r.error}`);
  }
}

function summaryJson(source: string, outcome: CopyOutcome): string {
  const destinations = outcome.results.map(({ permanent: _, ...r }) => r);
  return `${JSON.stringify({ source, digest: outcome.digest ?? null, destinations }, null, 2)}\n`;
}

async function copy(args: CopyArgs, ctx: CliContext, progress: Progress): Promise<number> {
  const deadline = startDeadline(args.common.timeoutSeconds);
  const transport = createTransport(args.common, (line) => progress.log(line));
  try {
    const pool = new RegistryPool(transport, ctx.env);
    const source = { ref: args.source.ref, registry: pool.get(args.source.ref.registry, args.source.roleArn) };
    const targets = args.targets.map((t) => ({ ref: t.ref, registry: pool.get(t.ref.registry, t.roleArn) }));
    const outcome = await copyImage(source, targets, { jobs: args.common.jobs, retries: args.common.retries, progress, referrers: args.referrers, expectDigest: args.expectDigest, deadline });
    report(progress, outcome);
    if (args.digestFile && outcome.digest && outcome.results.some((r) => r.ok)) fs.writeFileSync(args.digestFile, outcome.digest);
    if (args.common.json) ctx.stdout.write(summaryJson(formatReference(args.source.ref), outcome));
    return exitCode(outcome.results.filter((r) => !r.ok));
  } finally {
    transport.close();
  }
}

export async function main(argv: readonly string[], ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const progress = createProgress(ctx.stderr);
  try {
    const args = parseCopyArgs(argv, ctx.env);
    if (args === 'help') {
      ctx.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    return await copy(args, ctx, progress);
  } catch (err) {
    progress.log(`ferry copy: ${errorMessage(err)}`);
    return err instanceof InputError ? EXIT.badInput : EXIT.destinationFailed;
  } finally {
    progress.close();
  }
}
