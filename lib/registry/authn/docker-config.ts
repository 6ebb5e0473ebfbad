/**
 * Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
 * basic credentials from `auths`, matched by normalised host. Credential helpers
 * (`credsStore`, `credHelpers`) are not run: a push pod has none.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorMessage, InputError } from '../../common/errors';
import { normalizeHost } from '../host';
import { type CredentialSource, type Env, splitUserPassword } from './credentials';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

export function dockerConfigPath(env: Env): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json');
}

function read(file: string): DockerConfig {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    // A broken config.json is the user's to fix: no retry helps (exit 2).
    throw new InputError(`${file}: not valid JSON (${errorMessage(err)})`);
  }
}

/** The `auths` entry for `host`, or undefined when there is no file or no entry. */
export function dockerConfigSource(host: string, env: Env): CredentialSource | undefined {
  const file = dockerConfigPath(env);
  if (!fs.existsSync(file)) return undefined;
  const auths = read(file).auths ?? {};
  const key = Object.keys(auths).find((k) => normalizeHost(k) === normalizeHost(host));
  if (!key) return undefined;
  const entry = auths[key];
  const credentials = entry.auth
    ? splitUserPassword(Buffer.from(entry.auth, 'base64').toString('utf8'))
    : { username: entry.username ?? '', password: entry.password ?? '' };
  return { describe: `user "${credentials.username}" from ${file}`, get: async () => credentials };
}
