/**
 * The options `ferry push`, `ferry copy` and `ferry sync` share, defined and validated
 * once: --jobs, --retries, --timeout (env FERRY_TIMEOUT), --json, --insecure-registry,
 * --ca-file. Everything here is checked before the first request (preflight), and a bad
 * value is an InputError (exit 2) naming the flag.
 *
 * Trust options (--trust, --token-*) live with the credentials code (authn/flags.ts) and
 * are merged next to these by each command: `{ ...COMMON_OPTIONS, ...TRUST_OPTIONS, ... }`.
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage, InputError } from '../common/errors';
import { DEFAULT_TIMEOUT_SECONDS } from '../contract';
import type { Env } from '../registry/authn';
import { Deadline, requestTimeouts } from '../registry/deadlines';
import { HostSet, normalizeHost } from '../registry/host';
import { DEFAULT_RETRY_POLICY } from '../registry/retry';
import { Transport } from '../registry/transport';

export const DEFAULTS = { jobs: 4, retries: 8, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS } as const;
const LIMITS = { jobs: [1, 64], retries: [0, 20], timeoutSeconds: [1, 86_400] } as const;

/** parseArgs descriptors of the shared options; spread them into a command's own. */
export const COMMON_OPTIONS = {
  jobs: { type: 'string' },
  retries: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  'insecure-registry': { type: 'string', multiple: true },
  'ca-file': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_USAGE = `  --jobs <n>                    parallel blob uploads per destination (default ${DEFAULTS.jobs}, ${LIMITS.jobs.join('..')})
  --retries <n>                 retries per operation on connection errors, timeouts, 408, 429,
                                5xx (default ${DEFAULTS.retries}, ${LIMITS.retries.join('..')}); see "Retries" below
  --timeout <seconds>           overall deadline per destination (env FERRY_TIMEOUT; default
                                ${DEFAULTS.timeoutSeconds}, below the push step's Argo deadline)
  --json                        write a JSON summary to stdout
  --insecure-registry <host[:port]>  allow plain HTTP or unverified TLS for this host only;
                                without a port, every port of that host; repeatable
  --ca-file <path>              trust the PEM CA certificate(s) in this file too; repeatable
  -h, --help                    show this help`;

const seconds = (ms: number) => `${ms / 1000} s`;

/** The "Retries" section of every command's --help, from the retry policy itself. */
export const RETRIES_USAGE = `Retries: connection errors, request timeouts, 408, 429 and 5xx, at most --retries times
per operation (one blob upload, one manifest PUT, one HEAD), waiting ${seconds(DEFAULT_RETRY_POLICY.baseMs)}, ${seconds(2 * DEFAULT_RETRY_POLICY.baseMs)}, ${seconds(4 * DEFAULT_RETRY_POLICY.baseMs)} ...
(doubling, with jitter, at most ${seconds(DEFAULT_RETRY_POLICY.maxDelayMs)} each; Retry-After may lengthen a wait up to ${seconds(DEFAULT_RETRY_POLICY.maxRetryAfterMs)}),
at most ${seconds(DEFAULT_RETRY_POLICY.maxTotalMs)} of waiting per operation. A request fails when it cannot connect, gets no
answer, or moves fewer than 1 KB/s.`;

export interface CommonSettings {
  readonly jobs: number;
  readonly retries: number;
  readonly timeoutSeconds: number;
  readonly json: boolean;
  readonly insecure: HostSet;
  readonly ca: readonly string[];
}

/** parseArgs, with its errors as InputErrors pointing at the command's help. */
export function parseCommandLine<O extends ParseArgsConfig['options']>(argv: readonly string[], options: O, command: string) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new InputError(`${errorMessage(err)} (see ${command} --help)`);
  }
}

function integer(flag: string, value: string | undefined, fallback: number, [min, max]: readonly [number, number]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new InputError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

const HOST_SHAPE = /^(?:[a-z0-9]([a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

function insecureHosts(values: readonly string[]): HostSet {
  for (const value of values) {
    if (!HOST_SHAPE.test(normalizeHost(value))) throw new InputError(`--insecure-registry "${value}" is not a host or host:port`);
  }
  return new HostSet(values);
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every --ca-file must be readable and hold at least one certificate, each of which parses. */
export function readCaFiles(paths: readonly string[]): string[] {
  return paths.map((p) => {
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch (err) {
      throw new InputError(`--ca-file ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    }
    const certs = text.match(PEM_CERT) ?? [];
    if (certs.length === 0) throw new InputError(`--ca-file ${p}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`);
    certs.forEach((pem, i) => {
      try {
        new X509Certificate(pem);
      } catch (err) {
        throw new InputError(`--ca-file ${p}: certificate ${i + 1} does not parse (${errorMessage(err)})`);
      }
    });
    return certs.join('\n');
  });
}

/** An output path (--digest-file) must be writable before anything is pushed. */
export function checkWritable(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new InputError(`${flag} ${file}: directory ${dir} does not exist`);
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) throw new InputError(`${flag} ${file}: exists and is not a regular file`);
  try {
    fs.accessSync(existing ? file : dir, fs.constants.W_OK);
  } catch {
    throw new InputError(`${flag} ${file}: not writable`);
  }
}

interface CommonValues {
  jobs?: string;
  retries?: string;
  timeout?: string;
  json?: boolean;
  'insecure-registry'?: string[];
  'ca-file'?: string[];
}

export function parseCommon(values: CommonValues, env: Env): CommonSettings {
  const timeoutFlag = values.timeout !== undefined ? '--timeout' : 'FERRY_TIMEOUT';
  return {
    jobs: integer('--jobs', values.jobs, DEFAULTS.jobs, LIMITS.jobs),
    retries: integer('--retries', values.retries, DEFAULTS.retries, LIMITS.retries),
    timeoutSeconds: integer(timeoutFlag, values.timeout ?? env.FERRY_TIMEOUT, DEFAULTS.timeoutSeconds, LIMITS.timeoutSeconds),
    json: values.json ?? false,
    insecure: insecureHosts(values['insecure-registry'] ?? []),
    ca: readCaFiles(values['ca-file'] ?? []),
  };
}

/** The Transport these settings describe; request deadlines scale with --timeout. */
export function createTransport(settings: CommonSettings, log: (line: string) => void): Transport {
  return new Transport({
    retries: settings.retries,
    insecureHosts: settings.insecure,
    ca: settings.ca,
    timeouts: requestTimeouts(settings.timeoutSeconds),
    log,
  });
}

/** The overall deadline, started now: call at the start of the run. */
export function createDeadline(settings: CommonSettings): Deadline {
  return new Deadline(settings.timeoutSeconds);
}
