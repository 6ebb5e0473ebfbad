/**
 * Credentials per registry host, in this order:
 *  1. ECR (host shaped like an ECR registry in any partition, or named by
 *     AWS_ECR_ENDPOINT): GetAuthorizationToken in the registry's own region, with the
 *     default credential chain or a destination role assumed with the pod's web identity.
 *  2. Docker config.json (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`),
 *     basic credentials from `auths`.
 *  3. Anonymous.
 * The registry's challenge decides how they are presented: Basic directly, or exchanged
 * at a Bearer realm for a token per scope. One Authenticator per registry host holds the
 * token cache; a 401 refreshes it once.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseEcrHost } from '../config/partitions';
import { PushError, errorMessage } from './errors';
import { Transport, registryError } from './transport';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Where credentials come from; `describe` is safe to print (never a secret). */
export interface CredentialSource {
  readonly describe: string;
  get(refresh: boolean): Promise<Credentials | undefined>;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const anonymous: CredentialSource = { describe: 'anonymous', get: async () => undefined };

// ---------- ECR ----------

export interface EcrTarget {
  readonly host: string;
  readonly region: string;
  readonly fips: boolean;
  /** Role to assume with the pod's web identity token; default credential chain when absent. */
  readonly roleArn?: string;
}

function hostOf(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

/** The ECR registry a host is, by its name or because AWS_ECR_ENDPOINT names it. */
export function ecrTargetOf(host: string, env: Env, roleArn?: string): EcrTarget | undefined {
  const parsed = parseEcrHost(host);
  if (parsed) return { host, region: parsed.region, fips: parsed.fips, roleArn };
  if (!env.AWS_ECR_ENDPOINT || hostOf(env.AWS_ECR_ENDPOINT) !== host) return undefined;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new PushError(`AWS_ECR_ENDPOINT marks ${host} as ECR but its name shows no region; set AWS_REGION`);
  return { host, region, fips: false, roleArn };
}

/** Credentials of the destination role, from the web identity token file IRSA mounts. */
interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

async function assumeRole(target: EcrTarget, env: Env): Promise<AwsCredentials> {
  const tokenFile = env.AWS_WEB_IDENTITY_TOKEN_FILE;
  if (!tokenFile) throw new PushError(`role ${target.roleArn} for ${target.host} needs a web identity token, but AWS_WEB_IDENTITY_TOKEN_FILE is not set`);
  // Loaded on demand so that pushes to other registries start without the SDK.
  const { STSClient, AssumeRoleWithWebIdentityCommand } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
  const sts = new STSClient({ region: target.region });
  try {
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: target.roleArn,
      RoleSessionName: `ferry-push-${Date.now()}`,
      WebIdentityToken: fs.readFileSync(tokenFile, 'utf8').trim(),
    }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  } catch (err) {
    throw new PushError(`assuming role ${target.roleArn} in ${target.region} for ${target.host} failed: ${errorMessage(err)}`);
  } finally {
    sts.destroy();
  }
}

async function ecrCredentials(target: EcrTarget, env: Env): Promise<Credentials> {
  const { ECRClient, GetAuthorizationTokenCommand } = require('@aws-sdk/client-ecr') as typeof import('@aws-sdk/client-ecr');
  const credentials = target.roleArn ? await assumeRole(target, env) : undefined;
  const ecr = new ECRClient({ region: target.region, useFipsEndpoint: target.fips, credentials });
  try {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const token = out.authorizationData?.[0]?.authorizationToken;
    if (!token) throw new Error('no authorizationData in the answer');
    const [username, ...rest] = Buffer.from(token, 'base64').toString('utf8').split(':');
    return { username, password: rest.join(':') };
  } catch (err) {
    throw new PushError(`ECR GetAuthorizationToken in ${target.region} for ${target.host} failed: ${errorMessage(err)}`);
  } finally {
    ecr.destroy();
  }
}

export function ecrSource(target: EcrTarget, env: Env): CredentialSource {
  let cached: Promise<Credentials> | undefined;
  return {
    describe: `ECR token from ${target.roleArn ? `role ${target.roleArn}` : 'the default AWS credentials'} in ${target.region}`,
    get(refresh) {
      if (refresh || !cached) {
        cached = ecrCredentials(target, env);
        cached.catch(() => { cached = undefined; });
      }
      return cached;
    },
  };
}

// ---------- Docker config.json ----------

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

function dockerConfigPath(env: Env): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(env.HOME ?? os.homedir(), '.docker'), 'config.json');
}

export function dockerConfigSource(host: string, env: Env): CredentialSource | undefined {
  const file = dockerConfigPath(env);
  if (!fs.existsSync(file)) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PushError(`${file}: not valid JSON (${errorMessage(err)})`);
  }
  const key = Object.keys(config.auths ?? {}).find((k) => hostOf(k) === host);
  if (!key) return undefined;
  const entry = config.auths![key];
  const [username, ...rest] = entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8').split(':') : [entry.username ?? '', entry.password ?? ''];
  const credentials = { username, password: rest.join(':') };
  return { describe: `user "${username}" from ${file}`, get: async () => credentials };
}

export function credentialSourceFor(host: string, env: Env, roleArn?: string): CredentialSource {
  const ecr = ecrTargetOf(host, env, roleArn);
  if (ecr) return ecrSource(ecr, env);
  if (roleArn) throw new PushError(`a role ARN was given for ${host}, which is not an ECR registry (set AWS_ECR_ENDPOINT=${host} if it is one)`);
  return dockerConfigSource(host, env) ?? anonymous;
}

// ---------- Challenges and tokens ----------

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(value: string | undefined): Challenge | undefined {
  const m = value && /^\s*(Basic|Bearer)\b(.*)$/i.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const [, k, v] of m[2].matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) params[k.toLowerCase()] = v;
  return { scheme: m[1].toLowerCase() as Challenge['scheme'], params };
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

const TOKEN_MARGIN_MS = 10_000;

export class Authenticator {
  private challenge?: Challenge;
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(readonly host: string, private readonly transport: Transport, readonly source: CredentialSource) {}

  /** Records the challenge from the registry's /v2/ answer; none means anonymous access. */
  setChallenge(wwwAuthenticate: string | undefined): void {
    this.challenge = parseChallenge(wwwAuthenticate);
  }

  /** The Authorization header for these scopes (`repository:<name>:pull,push`), if any. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    if (!this.challenge) return undefined;
    if (this.challenge.scheme === 'basic') {
      const creds = await this.source.get(false);
      return creds && basic(creds);
    }
    return `Bearer ${(await this.token(scopes)).value}`;
  }

  /** After a 401: drop cached tokens and credentials and take the registry's new challenge. */
  async refresh(wwwAuthenticate: string | undefined): Promise<void> {
    this.challenge = parseChallenge(wwwAuthenticate) ?? this.challenge;
    this.tokens.clear();
    await this.source.get(true);
  }

  refused(): PushError {
    return new PushError(`authentication refused by ${this.host} (credentials: ${this.source.describe})`);
  }

  private token(scopes: readonly string[]): Promise<Token> {
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached) {
      return cached.then((t) => (t.expiresAt > Date.now() + TOKEN_MARGIN_MS ? t : this.fetchAndCache(key, scopes)));
    }
    return this.fetchAndCache(key, scopes);
  }

  private fetchAndCache(key: string, scopes: readonly string[]): Promise<Token> {
    const pending = this.fetchToken(scopes);
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.delete(key));
    return pending;
  }

  private async fetchToken(scopes: readonly string[]): Promise<Token> {
    const { realm, service } = this.challenge!.params;
    if (!realm) throw new PushError(`${this.host} asked for a Bearer token without naming a realm`);
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const creds = await this.source.get(false);
    const res = await this.transport.send({ method: 'GET', url, headers: creds ? { authorization: basic(creds) } : {} });
    if (res.status === 401 || res.status === 403) throw this.refused();
    if (res.status !== 200) throw new PushError(`token service ${url.origin}${url.pathname} for ${this.host} answered ${registryError(res)}`);
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      // The parser's message quotes the body, which may hold a token: say nothing of it.
      throw new PushError(`token service ${url.origin}${url.pathname} for ${this.host} answered with a body that is not JSON`);
    }
    const value = body.token ?? body.access_token;
    if (!value) throw new PushError(`token service ${url.origin}${url.pathname} for ${this.host} returned no token`);
    return { value, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
  }
}

