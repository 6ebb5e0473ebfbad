/**
 * What `ferry copy` and `ferry sync` share on the command line: the options common to
 * every ferry command (the same names, defaults and limits as `ferry push`), `REF=ROLE`
 * arguments, one Registry per host and role, and exit codes.
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import { ParseArgsConfig, parseArgs } from 'node:util';
import { Env, Authenticator, credentialSourceFor } from './auth';
import { parseDestination } from './cli';
import { EXIT, InputError, errorMessage } from './errors';
import { Progress } from './progress';
import { Reference } from './reference';
import { Registry } from './registry';
import { Transport } from './transport';

export interface CliContext {
  readonly env: Env;
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

export const DEFAULTS = { jobs: 4, retries: 3 } as const;

/** Option help shared by copy and sync (push documents the same flags in its own USAGE). */
export const COMMON_USAGE = `  --jobs <n>                    blobs in flight at once (default ${DEFAULTS.jobs})
  --retries <n>                 retries on connection errors, 408, 429, 5xx (default ${DEFAULTS.retries})
  --json                        write a JSON summary to stdout
  --insecure-registry <host:port>  allow plain HTTP or unverified TLS for this host only;
                                repeatable
  --ca-file <path>              trust this PEM CA certificate too; repeatable
  -h, --help                    show this help`;

export const COMMON_OPTIONS = {
  to: { type: 'string', multiple: true },
  jobs: { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  'insecure-registry': { type: 'string', multiple: true },
  'ca-file': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export interface CommonSettings {
  readonly jobs: number;
  readonly retries: number;
  readonly json: boolean;
  readonly insecure: ReadonlySet<string>;
  readonly ca: readonly string[];
}

/** A `REF[=ROLE_ARN]` argument: the same syntax and checks as `ferry push --to`. */
export interface Endpointspec {
  readonly ref: Reference;
  readonly roleArn?: string;
}

export function parseEndpoint(arg: string): Endpointspec {
  return parseDestination(arg);
}

export function parse<O extends ParseArgsConfig['options']>(command: string, argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: { ...COMMON_OPTIONS, ...options } });
  } catch (err) {
    throw new InputError(`${errorMessage(err)} (see ferry ${command} --help)`);
  }
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

function readCaFiles(paths: readonly string[]): string[] {
  return paths.map((p) => {
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch (err) {
      throw new InputError(`--ca-file ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new InputError(`--ca-file ${p}: not a PEM certificate (no BEGIN CERTIFICATE line)`);
    return text;
  });
}

export function commonSettings(values: { jobs?: string; retries?: string; json?: boolean; 'insecure-registry'?: string[]; 'ca-file'?: string[] }): CommonSettings {
  return {
    jobs: integer('jobs', values.jobs, DEFAULTS.jobs, 1, 64),
    retries: integer('retries', values.retries, DEFAULTS.retries, 0, 20),
    json: values.json ?? false,
    insecure: new Set((values['insecure-registry'] ?? []).map((h) => h.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''))),
    ca: readCaFiles(values['ca-file'] ?? []),
  };
}

export function transportFor(settings: CommonSettings, progress: Progress): Transport {
  return new Transport({ retries: settings.retries, insecureHosts: settings.insecure, ca: settings.ca, log: (line) => progress.log(line) });
}

/** One Registry (auth, token cache) per host and role, shared by source and destinations. */
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

/** 0 all done; 1 if anything failed that another attempt may fix; 2 if every failure is permanent. */
export function exitCode(failures: readonly { permanent?: boolean }[]): number {
  if (failures.length === 0) return EXIT.ok;
  return failures.every((f) => f.permanent) ? EXIT.badInput : EXIT.destinationFailed;
}
