/**
 * The options `ferry copy` and `ferry sync` share with `ferry push`: --jobs, --retries,
 * --timeout (env FERRY_TIMEOUT), --json, --insecure-registry, --ca-file, validated before
 * the first request; a bad value is an InputError (exit 2) naming the flag.
 *
 * The same names and signatures as the shared options module of the push hardening work,
 * so the two fold into one definition.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParseArgsConfig, parseArgs } from 'node:util';
import { InputError, errorMessage } from './errors';
import { Transport } from './transport';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Default --timeout: the push step's Argo activeDeadlineSeconds (1800) less a margin for
 * pod start and reporting (120), so ferry ends with its own message before Argo kills it.
 */
export const DEFAULT_TIMEOUT_SECONDS = 1680;

export const DEFAULTS = { jobs: 4, retries: 3, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS } as const;
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

export const COMMON_USAGE = `  --jobs <n>                    blobs in flight at once (default ${DEFAULTS.jobs}, ${LIMITS.jobs.join('..')})
  --retries <n>                 retries on connection errors, 408, 429, 5xx (default ${DEFAULTS.retries}, ${LIMITS.retries.join('..')})
  --timeout <seconds>           overall deadline of the run (env FERRY_TIMEOUT; default
                                ${DEFAULTS.timeoutSeconds}, below the push step's Argo deadline)
  --json                        write a JSON summary to stdout
  --insecure-registry <host:port>  allow plain HTTP or unverified TLS for this host only;
                                repeatable
  --ca-file <path>              trust the PEM CA certificate(s) in this file too; repeatable
  -h, --help                    show this help`;

export interface CommonSettings {
  readonly jobs: number;
  readonly retries: number;
  readonly timeoutSeconds: number;
  readonly json: boolean;
  readonly insecure: ReadonlySet<string>;
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
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InputError(`${flag} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** Every --ca-file must be readable and hold a PEM certificate. */
export function readCaFiles(paths: readonly string[]): string[] {
  return paths.map((p) => {
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch (err) {
      throw new InputError(`--ca-file ${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`);
    }
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new InputError(`--ca-file ${p}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`);
    return text;
  });
}

/** An output path (--digest-file) must be writable before anything moves. */
export function checkWritable(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new InputError(`${flag} ${file}: directory ${dir} does not exist`);
  try {
    fs.accessSync(fs.existsSync(file) ? file : dir, fs.constants.W_OK);
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
    insecure: new Set((values['insecure-registry'] ?? []).map((h) => h.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''))),
    ca: readCaFiles(values['ca-file'] ?? []),
  };
}

export function createTransport(settings: CommonSettings, log: (line: string) => void): Transport {
  return new Transport({ retries: settings.retries, insecureHosts: settings.insecure, ca: settings.ca, log });
}
