/**
 * `ferry sync <src-repo>[=<role-arn>] --to <dst-repo>[=<role-arn>] ...`: plan, report,
 * carry out, and the exit code (0 every destination holds every matching tag; 1 something
 * failed that a later run may fix; 2 a tag differs at a destination, or bad input).
 */
import { parseDestination } from './cli';
import { CliContext, RegistryPool, TRUST_OPTIONS, TRUST_USAGE, exitCode, parseTrust, startDeadline } from './cli-shared';
import { EXIT, InputError, errorMessage } from './errors';
import { COMMON_OPTIONS, COMMON_USAGE, CommonSettings, createTransport, parseCommandLine, parseCommon } from './options';
import { Progress, createProgress } from './progress';
import { untilAborted } from './copy';
import { DestinationOutcome, Repository, SyncPlan, globToRegExp, planSync, runSync } from './sync';

export const USAGE = `Usage: ferry sync <src-repo>[=<role-arn>] --to <dst-repo>[=<role-arn>] [--to ...] [options]

Makes every destination repository hold every tag of the source repository that matches
--tags, with the same digest. Only missing tags move (with their signatures, SBOMs and
attestations); a tag that already exists with another digest is reported and never
overwritten. Run it again and it moves nothing. This is how a new destination is
backfilled with the images built before it existed.

<src-repo>, <dst-repo>  host[:port]/repository (no tag)
=<role-arn>  get the ECR token of that registry through this IAM role, assumed with the
           pod's web identity token

Options:
  --to <dst-repo>[=<role-arn>]  destination repository, repeatable (at least one)
  --tags <glob>                 only tags matching this glob: * any characters, ? one,
                                [abc] a class (default *)
  --dry-run                     print the plan, change nothing
  --no-referrers                do not copy signatures, SBOMs and attestations along
${COMMON_USAGE}

${TRUST_USAGE}

Exit codes: 0 every destination holds every matching tag; 1 something failed that a
later run may fix; 2 a tag exists at a destination with another digest (named with both
digests), or bad input or usage.`;

interface SyncArgs {
  readonly source: ReturnType<typeof parseDestination> & { repository: string };
  readonly targets: (ReturnType<typeof parseDestination> & { repository: string })[];
  readonly glob: RegExp;
  readonly dryRun: boolean;
  readonly referrers: boolean;
  readonly common: CommonSettings;
}

/** `host/repo[=role]`: a repository, so a tag or digest is refused rather than ignored. */
function parseRepository(arg: string, what: string) {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (name.includes('@') || /:[^/]*$/.test(name.slice(name.indexOf('/') + 1))) {
    throw new InputError(`${what} ${name}: name a repository (host[:port]/repository), without a tag or digest`);
  }
  const parsed = parseDestination(arg);
  return { ...parsed, repository: parsed.ref.repository };
}

function parseSyncArgs(argv: readonly string[], env: CliContext['env']): SyncArgs | 'help' {
  const { values, positionals } = parseCommandLine(argv, {
    ...COMMON_OPTIONS,
    ...TRUST_OPTIONS,
    to: { type: 'string', multiple: true },
    tags: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'no-referrers': { type: 'boolean' },
  }, 'ferry sync');
  if (values.help) return 'help';
  parseTrust(values, env);
  if (positionals.length !== 1) throw new InputError(`expected one source repository, got ${positionals.length} (see ferry sync --help)`);
  if (!values.to?.length) throw new InputError('no destination: name one or more with --to <repository> (see ferry sync --help)');
  return {
    source: parseRepository(positionals[0], 'source'),
    targets: values.to.map((t) => parseRepository(t, '--to')),
    glob: globToRegExp(values.tags ?? '*'),
    dryRun: values['dry-run'] ?? false,
    referrers: !values['no-referrers'],
    common: parseCommon(values, env),
  };
}

const short = (digest: string) => digest.slice(0, 19);

function reportPlan(progress: Progress, plan: SyncPlan, dryRun: boolean): void {
  progress.log(plan.tags.length ? `${plan.source}: ${plan.tags.length} matching tags` : `${plan.source}: no tag matches --tags`);
  for (const d of plan.destinations) {
    if (d.error) {
      progress.log(`${d.repository}: FAILED: ${d.error}`);
      continue;
    }
    for (const c of d.conflicts) progress.log(`${d.repository}: CONFLICT: tag ${c.tag} is ${c.destination} there but ${c.source} in the source; not overwritten`);
    if (d.missing.length === 0) {
      progress.log(`${d.repository}: nothing to do, ${d.present.length} tags already in place${d.conflicts.length ? `, ${d.conflicts.length} in conflict` : ''}`);
      continue;
    }
    progress.log(`${d.repository}: ${d.missing.length} to copy, ${d.present.length} in place, ${d.conflicts.length} in conflict`);
    if (dryRun) for (const m of d.missing) progress.log(`${d.repository}: would copy ${m.tag} (${short(m.digest)})`);
  }
}

function reportOutcome(progress: Progress, outcomes: readonly DestinationOutcome[]): void {
  for (const o of outcomes) {
    if (o.error || o.missing.length === 0) continue;
    for (const f of o.failed) progress.log(`${o.repository}: FAILED ${f.tag}: ${f.error}`);
    progress.log(`${o.repository}: ${o.copied.length} copied, ${o.failed.length} failed, ${o.present.length} already in place, ${o.conflicts.length} in conflict`);
  }
}

function failuresOf(outcomes: readonly DestinationOutcome[]): { permanent?: boolean }[] {
  return outcomes.flatMap((o) => [
    ...(o.error ? [{ permanent: o.errorPermanent }] : []),
    ...o.conflicts.map(() => ({ permanent: true })),
    ...o.failed,
  ]);
}

function summaryJson(plan: SyncPlan, outcomes: readonly DestinationOutcome[], dryRun: boolean): string {
  const destinations = outcomes.map((o) => ({
    repository: o.repository,
    ...(o.error ? { error: o.error } : {}),
    missing: o.missing,
    copied: o.copied,
    present: o.present,
    conflicts: o.conflicts,
    failed: o.failed.map(({ permanent: _, ...f }) => f),
    upToDate: !o.error && o.conflicts.length === 0 && o.missing.length === o.copied.length,
  }));
  return `${JSON.stringify({ source: plan.source, dryRun, tags: plan.tags, destinations }, null, 2)}\n`;
}

async function sync(args: SyncArgs, ctx: CliContext, progress: Progress): Promise<number> {
  const deadline = startDeadline(args.common.timeoutSeconds);
  const transport = createTransport(args.common, (line) => progress.log(line));
  try {
    const pool = new RegistryPool(transport, ctx.env);
    const repo = (r: SyncArgs['source']): Repository => ({ registry: pool.get(r.ref.registry, r.roleArn), repository: r.repository });
    const source = repo(args.source);
    const destinations = args.targets.map(repo);
    const planning = planSync(source, destinations, args.glob, args.common.jobs);
    planning.catch(() => undefined);
    const plan = await untilAborted(planning, deadline);
    reportPlan(progress, plan, args.dryRun);
    const outcomes: DestinationOutcome[] = args.dryRun
      ? plan.destinations.map((d) => ({ ...d, copied: [], failed: [] }))
      : await runSync(source, destinations, plan, { jobs: args.common.jobs, retries: args.common.retries, progress, referrers: args.referrers, deadline });
    if (!args.dryRun) reportOutcome(progress, outcomes);
    if (args.common.json) ctx.stdout.write(summaryJson(plan, outcomes, args.dryRun));
    return exitCode(failuresOf(outcomes));
  } finally {
    transport.close();
  }
}

export async function main(argv: readonly string[], ctx: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const progress = createProgress(ctx.stderr);
  try {
    const args = parseSyncArgs(argv, ctx.env);
    if (args === 'help') {
      ctx.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    return await sync(args, ctx, progress);
  } catch (err) {
    progress.log(`ferry sync: ${errorMessage(err)}`);
    return err instanceof InputError ? EXIT.badInput : EXIT.destinationFailed;
  } finally {
    progress.close();
  }
}
