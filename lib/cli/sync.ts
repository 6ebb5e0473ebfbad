/**
 * `ferry sync <src-repo>[=<role-arn>] --to <dst-repo>[=<role-arn>] ...`: plan, report,
 * carry out, and the exit code (0 every destination holds every matching tag; 1 something
 * failed that a later run may fix; 2 a tag differs at a destination, or bad input).
 */

import { InputError } from '../common/errors';
import { type DestinationOutcome, globToRegExp, planSync, type Repository, runSync, type SyncPlan } from '../operations/sync';
import { type Env, parseTrust, TRUST_OPTIONS, TRUST_USAGE, type TrustSettings } from '../registry/authn';
import { withinDeadline } from '../registry/deadlines';
import type { Progress } from '../registry/progress';
import { COMMON_OPTIONS, COMMON_USAGE, type CommonSettings, parseCommandLine, parseCommon, RETRIES_USAGE } from './options';
import {
  type CliContext,
  type Command,
  checkDestinationRoles,
  exitCode,
  PROCESS_CONTEXT,
  parseRepository,
  type RepositoryArg,
  runCommand,
  withRun,
} from './shared';

export const USAGE = `Usage: ferry sync <src-repo>[=<role-arn>] --to <dst-repo>[=<role-arn>] [--to ...] [options]

Makes every destination repository hold every tag of the source repository that matches
--tags, with the same digest. Only missing tags move (with their signatures, SBOMs and
attestations); a tag that already exists with another digest is reported and never
overwritten. Run it again and it moves nothing. This is how a new destination is
backfilled with the images built before it existed.

<src-repo>, <dst-repo>  host[:port]/repository (no tag)
=<role-arn>  get the ECR token of that registry through this IAM role. On a --to, the
           role is reached the way --trust says; on the source, always with the pod's
           web identity token (cluster-oidc)

Options:
  --to <dst-repo>[=<role-arn>]  destination repository, repeatable (at least one)
  --tags <glob>                 only tags matching this glob: * any characters, ? one,
                                [abc] a class (default *)
  --dry-run                     print the plan, change nothing; exits as the run would
                                for what a plan can know (2 on a conflict)
  --no-referrers                do not copy signatures, SBOMs and attestations along
${COMMON_USAGE}

${TRUST_USAGE}

${RETRIES_USAGE} As in ferry copy, a blob's transfer to one destination is
one operation; the --timeout deadline covers the whole sync.

Exit codes: 0 every destination holds every matching tag; 1 something failed that a
later run may fix; 2 a tag exists at a destination with another digest (named with both
digests), or bad input or usage. With --dry-run: 2 when the plan has a conflict (the run
would end so too), 1 when a destination could not be read, otherwise 0.`;

interface SyncSettings extends CommonSettings {
  readonly source: RepositoryArg;
  readonly targets: readonly RepositoryArg[];
  readonly glob: RegExp;
  readonly dryRun: boolean;
  readonly referrers: boolean;
  readonly trust: TrustSettings;
}

const SYNC_OPTIONS = {
  ...COMMON_OPTIONS,
  ...TRUST_OPTIONS,
  to: { type: 'string', multiple: true },
  tags: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'no-referrers': { type: 'boolean' },
} as const;

function parseSyncArgs(argv: readonly string[], env: Env): SyncSettings | 'help' {
  const { values, positionals } = parseCommandLine(argv, SYNC_OPTIONS, 'ferry sync');
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new InputError(`expected one source repository, got ${positionals.length} (see ferry sync --help)`);
  if (!values.to?.length) throw new InputError('no destination: name one or more with --to <repository> (see ferry sync --help)');
  const trust = parseTrust(values, env);
  const targets = values.to.map((t) => parseRepository(t, '--to', env));
  checkDestinationRoles(trust, targets);
  return {
    ...parseCommon(values, env),
    source: parseRepository(positionals[0], 'source', env),
    targets,
    trust,
    glob: globToRegExp(values.tags ?? '*'),
    dryRun: values['dry-run'] ?? false,
    referrers: !values['no-referrers'],
  };
}

function reportPlan(progress: Progress, plan: SyncPlan, dryRun: boolean): void {
  progress.log(plan.tags.length ? `${plan.source}: ${plan.tags.length} matching tags` : `${plan.source}: no tag matches --tags`);
  for (const d of plan.destinations) {
    if (d.error) {
      progress.log(`${d.repository}: FAILED: ${d.error}`);
      continue;
    }
    for (const c of d.conflicts)
      progress.log(`${d.repository}: CONFLICT: tag ${c.tag} is ${c.destination} there but ${c.source} in the source; not overwritten`);
    if (d.missing.length === 0) {
      progress.log(
        `${d.repository}: nothing to do, ${d.present.length} tags already in place${d.conflicts.length ? `, ${d.conflicts.length} in conflict` : ''}`,
      );
      continue;
    }
    progress.log(`${d.repository}: ${d.missing.length} to copy, ${d.present.length} in place, ${d.conflicts.length} in conflict`);
    if (dryRun) for (const m of d.missing) progress.log(`${d.repository}: would copy ${m.tag} (${m.digest})`);
  }
}

function reportOutcome(progress: Progress, outcomes: readonly DestinationOutcome[]): void {
  for (const o of outcomes) {
    if (o.error || o.missing.length === 0) continue;
    for (const f of o.failed) progress.log(`${o.repository}: FAILED ${f.tag}: ${f.error}`);
    progress.log(
      `${o.repository}: ${o.copied.length} copied, ${o.failed.length} failed, ${o.present.length} already in place, ${o.conflicts.length} in conflict`,
    );
  }
}

/** Every failure of the run: an unreadable destination, each conflict (no retry fixes it), each failed tag. */
function failuresOf(outcomes: readonly DestinationOutcome[]): { ok: false; unfixable?: boolean }[] {
  return outcomes.flatMap((o) =>
    [...(o.error ? [{ unfixable: o.errorUnfixable }] : []), ...o.conflicts.map(() => ({ unfixable: true })), ...o.failed].map((f) => ({
      ok: false as const,
      unfixable: f.unfixable,
    })),
  );
}

function summaryJson(plan: SyncPlan, outcomes: readonly DestinationOutcome[], dryRun: boolean): string {
  const destinations = outcomes.map((o) => ({
    repository: o.repository,
    ...(o.error ? { error: o.error } : {}),
    missing: o.missing,
    copied: o.copied,
    present: o.present,
    conflicts: o.conflicts,
    failed: o.failed.map(({ unfixable: _, ...f }) => f),
    upToDate: !o.error && o.conflicts.length === 0 && o.missing.length === o.copied.length,
  }));
  return `${JSON.stringify({ source: plan.source, dryRun, tags: plan.tags, destinations }, null, 2)}\n`;
}

function sync(settings: SyncSettings, ctx: CliContext, progress: Progress): Promise<number> {
  return withRun(settings, settings.trust, ctx, progress, async ({ registries, deadline }) => {
    const source: Repository = { registry: registries.source(settings.source), repository: settings.source.repository };
    const destinations = settings.targets.map((t): Repository => ({ registry: registries.destination(t), repository: t.repository }));
    const planning = planSync(source, destinations, settings.glob, settings.jobs);
    planning.catch(() => undefined);
    const plan = await withinDeadline(planning, deadline);
    reportPlan(progress, plan, settings.dryRun);
    const outcomes: DestinationOutcome[] = settings.dryRun
      ? plan.destinations.map((d) => ({ ...d, copied: [], failed: [] }))
      : await runSync(source, destinations, plan, { jobs: settings.jobs, progress, referrers: settings.referrers, deadline });
    if (!settings.dryRun) reportOutcome(progress, outcomes);
    if (settings.json) ctx.stdout.write(summaryJson(plan, outcomes, settings.dryRun));
    return exitCode(failuresOf(outcomes));
  });
}

export const SYNC: Command<SyncSettings> = { name: 'ferry sync', usage: USAGE, parse: parseSyncArgs, run: sync };

export function main(argv: readonly string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(SYNC, argv, ctx);
}
