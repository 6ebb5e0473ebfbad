/**
 * What `ferry copy` and `ferry sync` share beyond the common options: the CLI context,
 * one Registry per host and role for source and destinations, and the exit code.
 */
import { Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import { Authenticator, credentialSourceFor } from './auth';
import { EXIT, InputError, RetryableError } from './errors';
import { Env } from './options';
import { Registry } from './registry';
import { Transport } from './transport';

export interface CliContext {
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

/** One Registry (auth, token cache) per host and role, shared by the source and the destinations. */
export class RegistryPool {
  private readonly byKey = new Map<string, Registry>();

  constructor(private readonly transport: Transport, private readonly env: Env) {}

  get(host: string, roleArn?: string): Registry {
    const key = `${host} ${roleArn ?? ''}`;
    let registry = this.byKey.get(key);
    if (!registry) {
      registry = new Registry(host, this.transport, new Authenticator(host, this.transport, credentialSourceFor(host, this.env, roleArn)));
      this.byKey.set(key, registry);
    }
    return registry;
  }
}

/** 0 nothing failed; 2 when every failure is one no retry can fix; otherwise 1 (a later run may succeed). */
export function exitCode(failures: readonly { permanent?: boolean }[]): number {
  if (failures.length === 0) return EXIT.ok;
  return failures.every((f) => f.permanent) ? EXIT.badInput : EXIT.destinationFailed;
}

/**
 * The run's overall deadline (--timeout): aborts with a retryable error (exit 1, a later
 * attempt may finish), so the command reports and ends on its own before Argo kills the pod.
 */
export function startDeadline(timeoutSeconds: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RetryableError(`did not finish within --timeout ${timeoutSeconds}s`)), timeoutSeconds * 1000);
  timer.unref();
  return controller.signal;
}

/**
 * The trust options of the ferry CLI contract, with the names of the credentials module's
 * (authn/flags.ts) so the two fold into one. The credentials code of this branch reaches
 * `=<role-arn>` one way, cluster-oidc (AssumeRoleWithWebIdentity with the pod's token);
 * outbound-federation is refused here, before anything moves, rather than half-done.
 */
export const TRUST_OPTIONS = {
  trust: { type: 'string' },
  'token-audience': { type: 'string' },
  'token-region': { type: 'string' },
  'token-duration': { type: 'string' },
  'token-fips': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const TRUST_USAGE = `Trust (how =<role-arn> is reached):
  --trust cluster-oidc          (env FERRY_TRUST; the default) AssumeRoleWithWebIdentity with
                                the pod's own token (AWS_WEB_IDENTITY_TOKEN_FILE) at the STS of
                                the registry's region`;

export interface TrustValues {
  trust?: string;
  'token-audience'?: string;
  'token-region'?: string;
  'token-duration'?: string;
  'token-fips'?: boolean;
}

export function parseTrust(values: TrustValues, env: Env): { mode: 'cluster-oidc' } {
  const mode = values.trust ?? env.FERRY_TRUST ?? 'cluster-oidc';
  const from = values.trust !== undefined ? '--trust' : 'FERRY_TRUST';
  if (mode === 'outbound-federation') throw new InputError(`${from} outbound-federation: this build of ferry reaches roles by cluster-oidc only`);
  if (mode !== 'cluster-oidc') throw new InputError(`${from} "${mode}" is not one of cluster-oidc, outbound-federation`);
  const tokenFlag = (['token-audience', 'token-region', 'token-duration', 'token-fips'] as const).find((f) => values[f] !== undefined);
  if (tokenFlag) throw new InputError(`--${tokenFlag} applies only with --trust outbound-federation`);
  return { mode };
}
