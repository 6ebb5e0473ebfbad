/**
 * `ferry status <repo>[=<role-arn>] --to <repo>[=<role-arn>] ...`: one table of tags × registries,
 * the first (the build registry) as the reference, read only, with the credentials ferry sync uses.
 */
import { InputError } from '../common/errors';
import { EXIT } from '../contract';
import { type Cell, readStatus, type StatusReport } from '../operations/status';
import { globToRegExp } from '../operations/sync';
import { type Env, parseTrust, TRUST_OPTIONS, TRUST_USAGE, type TrustSettings } from '../registry/authn';
import { withinDeadline } from '../registry/deadlines';
import type { Progress } from '../registry/progress';
import { COMMON_OPTIONS, COMMON_USAGE, type CommonSettings, parseCommandLine, parseCommon, RETRIES_USAGE } from './options';
import { type CliContext, type Command, checkDestinationRoles, PROCESS_CONTEXT, parseRepository, type RepositoryArg, runCommand, withRun } from './shared';

/** Hex digits of a digest shown in a cell: enough to tell images apart at a glance. */
export const SHORT_DIGEST_HEX = 12;

export const USAGE = `Usage: ferry status <repo>[=<role-arn>] --to <repo>[=<role-arn>] [--to ...] [options]

Shows which tags of a repository each registry holds, and at which digest: one row per
tag, one column per registry, the first (<repo>, the build registry) as the reference.
Reads only; it uses the same credentials and arguments as ferry sync.

<repo>       host[:port]/repository (no tag)
=<role-arn>  get the ECR token of that registry through this IAM role, as in ferry sync

Each cell is the digest's first ${SHORT_DIGEST_HEX} hex digits (sha256 omitted), or:
  -    the registry does not hold the tag
  !    the tag is there at another digest than in the reference (shown after the mark)
  +    the tag is there but not in the reference
  ?    the registry could not be read (the reason is printed below the table)
Referrer tags (sha256-<hex>, cosign's .sig/.att/.sbom) are left out. --json gives full digests.

Options:
  --to <repo>[=<role-arn>]      another registry's repository, repeatable (at least one)
  --tags <glob>                 only tags matching this glob: * any characters, ? one,
                                [abc] a class (default *)
${COMMON_USAGE}

${TRUST_USAGE}

${RETRIES_USAGE} Every read is one operation; the --timeout deadline covers the whole run.

Exit codes: 0 every registry holds every tag of the reference at the same digest; 1 a tag
is missing somewhere (ferry sync brings it) or a registry could not be read; 2 a tag is at
another digest somewhere (ferry sync will not overwrite it), or bad input or usage.`;

interface StatusSettings extends CommonSettings {
  readonly source: RepositoryArg;
  readonly targets: readonly RepositoryArg[];
  readonly glob: RegExp;
  readonly trust: TrustSettings;
}

const STATUS_OPTIONS = { ...COMMON_OPTIONS, ...TRUST_OPTIONS, to: { type: 'string', multiple: true }, tags: { type: 'string' } } as const;

function parseStatusArgs(argv: readonly string[], env: Env): StatusSettings | 'help' {
  const { values, positionals } = parseCommandLine(argv, STATUS_OPTIONS, 'ferry status');
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new InputError(`expected one repository, got ${positionals.length} (see ferry status --help)`);
  if (!values.to?.length) throw new InputError('no registry to compare with: name one or more with --to <repository> (see ferry status --help)');
  const trust = parseTrust(values, env);
  const targets = values.to.map((t) => parseRepository(t, '--to', env));
  checkDestinationRoles(trust, targets);
  return { ...parseCommon(values, env), source: parseRepository(positionals[0], 'repository', env), targets, trust, glob: globToRegExp(values.tags ?? '*') };
}

const MARK: Record<Cell['state'], string> = { reference: '', same: '', different: '!', extra: '+', unknown: '', missing: '-' };

function cellText(cell: Cell | null): string {
  if (cell === null) return '?';
  if (cell.digest === null) return MARK.missing;
  return `${MARK[cell.state]}${cell.digest.slice('sha256:'.length, 'sha256:'.length + SHORT_DIGEST_HEX)}`;
}

/** The table: a numbered legend of the registries, a header, one padded row per tag, then unreadable registries. */
export function renderStatus(report: StatusReport): string[] {
  const legend = report.columns.map((c, i) => `[${i}] ${c.repository}${i === 0 ? ' (reference)' : ''}`);
  const header = ['tag', ...report.columns.map((_, i) => `[${i}]`)];
  const body = report.rows.map((r) => [r.tag, ...r.cells.map(cellText)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const errors = report.columns.flatMap((c, i) => (c.error ? [`[${i}] could not be read: ${c.error}`] : []));
  return [...legend, '', line(header), ...body.map(line), ...(report.rows.length ? [] : ['(no tag matches)']), ...errors];
}

/** 2 a tag at another digest (or an unfixable read error), 1 a tag missing or a registry unread, 0 complete. */
export function statusExitCode(report: StatusReport): number {
  const others = report.rows.map((r) => ({ inReference: r.cells[0]?.state === 'reference', cells: r.cells.slice(1) }));
  const readErrors = report.columns.filter((c) => c.error);
  if (others.some((r) => r.cells.some((c) => c?.state === 'different')) || readErrors.some((c) => c.errorUnfixable)) return EXIT.badInput;
  if (readErrors.length || others.some((r) => r.inReference && r.cells.some((c) => c?.state === 'missing'))) return EXIT.destinationFailed;
  return EXIT.ok;
}

function status(settings: StatusSettings, ctx: CliContext, progress: Progress): Promise<number> {
  return withRun(settings, settings.trust, ctx, progress, async ({ registries, deadline }) => {
    const reference = { registry: registries.source(settings.source), repository: settings.source.repository };
    const others = settings.targets.map((t) => ({ registry: registries.destination(t), repository: t.repository }));
    const reading = readStatus(reference, others, settings.glob, settings.jobs);
    reading.catch(() => undefined);
    const report = await withinDeadline(reading, deadline);
    const code = statusExitCode(report);
    if (settings.json) ctx.stdout.write(`${JSON.stringify({ complete: code === EXIT.ok, ...report }, null, 2)}\n`);
    else ctx.stdout.write(`${renderStatus(report).join('\n')}\n`);
    return code;
  });
}

export const STATUS: Command<StatusSettings> = { name: 'ferry status', usage: USAGE, parse: parseStatusArgs, run: status };

export function main(argv: readonly string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(STATUS, argv, ctx);
}
