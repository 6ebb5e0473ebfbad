/**
 * What `ferry copy` and `ferry sync` share beyond the common options: the CLI context,
 * one Registry per host and role for source and destinations, and the exit code.
 */
import { Writable } from 'node:stream';
import { Authenticator, credentialSourceFor } from './auth';
import { EXIT } from './errors';
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
