/**
 * What `ferry copy` and `ferry sync` share beyond the common options: the CLI context,
 * one Registry per host and role for source and destinations, and the exit code.
 */
import { Writable } from 'node:stream';
import { Authenticator, credentialSourceFor } from './auth';
import { EXIT, RetryableError } from './errors';
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
