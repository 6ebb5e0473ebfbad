/**
 * What `ferry push`, `ferry copy` and `ferry sync` share beyond the common options
 * (options.ts) and the trust options (authn/flags.ts): the CLI context, `REF[=ROLE]`
 * arguments, one Registry per host and role, the exit code, and the run of a command
 * (help, preflight errors as one line, exit codes from errors.ts EXIT).
 */
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { errorMessage, InputError, isUnfixable } from '../common/errors';
import { parseEcrHost } from '../config/partitions';
import { EXIT } from '../contract';
import { isDigest } from '../image/image';
import { Authenticator, checkFederatedRole, credentialSourceFor, type Env, ecrTargetOf, type TrustSettings } from '../registry/authn';
import type { Deadline } from '../registry/deadlines';
import type { Progress } from '../registry/progress';
import { parseReference, type Reference } from '../registry/reference';
import { Registry } from '../registry/registry';
import type { DestinationResult } from '../registry/remote';
import type { Transport } from '../registry/transport';
import { type CommonSettings, checkWritable, createDeadline, createTransport } from './options';
import { createProgress } from './progress';

export interface CliContext {
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** A registry reference and, optionally, the IAM role whose ECR token it is reached with. */
export interface RoleRef {
  readonly ref: Reference;
  readonly roleArn?: string;
}

const ROLE_ARN = /^arn:([a-z-]+):iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** `REF=ROLE_ARN`: references never contain "=", so the first one splits. `what` names the argument in messages. */
export function parseDestination(arg: string, env: Env = {}, what = '--to'): RoleRef {
  const eq = arg.indexOf('=');
  const ref = parseReference(eq < 0 ? arg : arg.slice(0, eq));
  if (eq < 0) return { ref };
  const roleArn = arg.slice(eq + 1);
  const m = ROLE_ARN.exec(roleArn);
  if (!m) throw new InputError(`${what} ${arg}: "${roleArn}" is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)`);
  const ecr = parseEcrHost(ref.registry);
  if (ecr && ecr.partition.id !== m[1]) {
    throw new InputError(`${what} ${arg}: the role is in partition ${m[1]} but ${ref.registry} is in ${ecr.partition.id}; roles cannot cross partitions`);
  }
  if (!ecr && !ecrTargetOf(ref.registry, env)) {
    throw new InputError(
      `${what} ${arg}: a role ARN only works with an ECR registry, and ${ref.registry} is not one (set AWS_ECR_ENDPOINT=${ref.registry} if it is)`,
    );
  }
  return { ref, roleArn };
}

/** Every `--to` role must be reachable the way --trust says (outbound federation needs a token region in another partition). */
/** A repository argument (`host/repository[=role]`): no tag or digest. */
export type RepositoryArg = RoleRef & { readonly repository: string };

/** `host/repo[=role]`: a repository, so a tag or digest is refused rather than ignored. */
export function parseRepository(arg: string, what: string, env: Env): RepositoryArg {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  if (name.includes('@') || /:[^/]*$/.test(name.slice(name.indexOf('/') + 1))) {
    throw new InputError(`${what} ${name}: name a repository (host[:port]/repository), without a tag or digest`);
  }
  const parsed = parseDestination(arg, env, what);
  return { ...parsed, repository: parsed.ref.repository };
}

export function checkDestinationRoles(trust: TrustSettings, destinations: readonly RoleRef[]): void {
  for (const d of destinations) if (d.roleArn) checkFederatedRole(trust, d.roleArn, d.roleArn.split(':')[1]);
}

/**
 * One Registry (auth, token cache, mount bookkeeping) per host and role, for the source
 * and the destinations alike; every request of the run ends by its deadline. Setting up
 * a credential source reads configuration (config.json, AWS_REGION): a failure there is
 * the user's to fix, so it is an InputError.
 */
export class RegistryPool {
  private readonly byKey = new Map<string, Registry>();

  constructor(
    private readonly transport: Transport,
    private readonly env: Env,
    private readonly trust: TrustSettings,
    private readonly log: (line: string) => void,
    private readonly deadline?: Deadline,
  ) {}

  /** A destination: its role is reached the way --trust says. */
  destination(d: RoleRef): Registry {
    return this.get(d.ref.registry, d.roleArn, this.trust);
  }

  /**
   * A source (copy, sync): in the pipeline the source is the build registry, read with
   * the pod's own credentials, in the partition of the pod's cluster. The --trust options
   * apply to destinations only (the CLI contract), so a source role is always reached
   * with the pod's web identity token (cluster-oidc).
   */
  source(s: RoleRef): Registry {
    return this.get(s.ref.registry, s.roleArn, { ...this.trust, mode: 'cluster-oidc' });
  }

  private get(host: string, roleArn: string | undefined, trust: TrustSettings): Registry {
    const key = `${host} ${roleArn ?? ''} ${roleArn ? trust.mode : ''}`;
    let registry = this.byKey.get(key);
    if (!registry) {
      let source: ReturnType<typeof credentialSourceFor>;
      try {
        source = credentialSourceFor(host, this.env, roleArn, { trust, log: this.log });
      } catch (err) {
        throw new InputError(`credentials for ${host}: ${errorMessage(err)}`);
      }
      registry = new Registry(host, this.transport, new Authenticator(host, this.transport, source), this.deadline);
      this.byKey.set(key, registry);
    }
    return registry;
  }
}

/** What one run holds: its deadline, its transport, its registries; all closed when the run ends. */
export interface Run {
  readonly deadline: Deadline;
  readonly transport: Transport;
  readonly registries: RegistryPool;
}

/** Starts the run's deadline (--timeout counts from here) and tears everything down after `fn`. */
export async function withRun<T>(
  settings: CommonSettings,
  trust: TrustSettings,
  ctx: CliContext,
  progress: Progress,
  fn: (run: Run) => Promise<T>,
): Promise<T> {
  const deadline = createDeadline(settings);
  const log = (line: string) => progress.log(line);
  const transport = createTransport(settings, log);
  try {
    return await fn({ deadline, transport, registries: new RegistryPool(transport, ctx.env, trust, log, deadline) });
  } finally {
    deadline.dispose();
    transport.close();
  }
}

/** --expect-digest and --digest-file of push and copy. */
export const DIGEST_OPTIONS = {
  'expect-digest': { type: 'string' },
  'digest-file': { type: 'string' },
} as const;

export const DIGEST_USAGE = `  --expect-digest <sha256:...>  refuse to deliver unless the manifest digest is this
  --digest-file <path>          write the manifest digest to this file (checked writable first)`;

export interface DigestSettings {
  readonly expectDigest?: string;
  readonly digestFile?: string;
}

/** Checked before anything moves: the digest's shape, and that the digest file can be written. */
export function parseDigestOptions(values: { 'expect-digest'?: string; 'digest-file'?: string }): DigestSettings {
  const expectDigest = values['expect-digest'];
  if (expectDigest !== undefined && !isDigest(expectDigest)) throw new InputError(`--expect-digest "${expectDigest}" is not sha256:<64 hex digits>`);
  const digestFile = values['digest-file'];
  if (digestFile !== undefined) checkWritable('--digest-file', digestFile);
  return { expectDigest, digestFile };
}

/** The digest file is written when some destination holds the image. */
export function writeDigestFile(settings: DigestSettings, digest: string | null | undefined, results: readonly { readonly ok: boolean }[]): void {
  if (settings.digestFile && digest && results.some((r) => r.ok)) fs.writeFileSync(settings.digestFile, digest);
}

/** One result line per destination. */
export function reportResults(progress: Progress, results: readonly (DestinationResult & { readonly referrers?: number })[]): void {
  for (const r of results) {
    const counts = `${r.blobs.pushed} pushed, ${r.blobs.mounted} mounted, ${r.blobs.skipped} skipped${r.referrers ? `, ${r.referrers} referrers` : ''}`;
    progress.log(r.ok ? `${r.ref}: done, ${r.digest} (${counts}) in ${r.seconds}s` : `${r.ref}: FAILED: ${r.error}`);
  }
}

/** The destinations of a --json summary (the exit-code classification stays internal). */
export function destinationsJson<R extends DestinationResult>(results: readonly R[]): Omit<R, 'unfixable'>[] {
  return results.map(({ unfixable: _, ...r }) => r);
}

/** 0 when nothing failed; 2 only when every failure is one no retry can fix; otherwise 1 (a later run may deliver). */
export function exitCode(outcomes: readonly { readonly ok: boolean; readonly unfixable?: boolean }[]): number {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return EXIT.ok;
  return failed.every((o) => o.unfixable) ? EXIT.badInput : EXIT.destinationFailed;
}

export interface Command<A> {
  /** `ferry push`, for messages. */
  readonly name: string;
  readonly usage: string;
  /** Parses and checks every argument (preflight); 'help' for --help. */
  parse(argv: readonly string[], env: Env): A | 'help';
  run(args: A, ctx: CliContext, progress: Progress): Promise<number>;
}

/** Runs a command: --help, or preflight then the run; an error before the run is one line, exit 2 when no retry can fix it. */
export async function runCommand<A>(command: Command<A>, argv: readonly string[], ctx: CliContext): Promise<number> {
  const progress = createProgress(ctx.stderr);
  try {
    const args = command.parse(argv, ctx.env);
    if (args === 'help') {
      ctx.stdout.write(`${command.usage}\n`);
      return EXIT.ok;
    }
    return await command.run(args, ctx, progress);
  } catch (err) {
    progress.log(`${command.name}: ${errorMessage(err)}`);
    return isUnfixable(err) ? EXIT.badInput : EXIT.destinationFailed;
  } finally {
    progress.close();
  }
}

export const PROCESS_CONTEXT: CliContext = { env: process.env, stdout: process.stdout, stderr: process.stderr };
