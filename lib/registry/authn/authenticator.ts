/**
 * How credentials are presented to one registry host: Basic directly, or exchanged at a
 * Bearer realm for a token per scope (the token cache lives here; a 401 refreshes once).
 *
 * The realm rule: credentials go to the registry host and to the one realm its OWN
 * challenge named, nowhere else. A challenge from any other host (an upload Location
 * elsewhere, a redirect) is refused, never answered and never remembered; a realm over
 * plain HTTP gets credentials only when its host was named insecure.
 */
import * as http from 'node:http';
import { FatalError, PushError } from '../../common/errors';
import { normalizeHost } from '../host';
import type { Transport } from '../transport';
import { type Challenge, parseChallenge } from './challenge';
import type { CredentialSource, Credentials } from './credentials';

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

const TOKEN_MARGIN_MS = 10_000;
/** Distribution's default when a token answer has no expires_in. */
const DEFAULT_TOKEN_SECONDS = 60;

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export class Authenticator {
  private challenge?: Challenge;
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(
    readonly host: string,
    private readonly transport: Transport,
    readonly source: CredentialSource,
  ) {}

  /**
   * Records the challenge from the registry's /v2/ answer; none means anonymous access.
   * `from` is the host that sent it: only the registry's own challenge counts.
   */
  setChallenge(wwwAuthenticate: string | undefined, from: string = this.host): void {
    this.checkOwn(from);
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

  /** After a 401 from `from`: drop cached tokens and credentials and take the registry's new challenge. */
  async refresh(wwwAuthenticate: string | undefined, from: string = this.host): Promise<void> {
    this.checkOwn(from);
    this.challenge = parseChallenge(wwwAuthenticate) ?? this.challenge;
    this.tokens.clear();
    await this.source.get(true);
  }

  refused(): PushError {
    return new PushError(`authentication refused by ${this.host} (credentials: ${this.source.describe})`);
  }

  private checkOwn(from: string): void {
    if (normalizeHost(from) !== normalizeHost(this.host)) {
      throw new FatalError(`${from} asked for credentials, but only the registry ${this.host} may: ferry sends ${this.host}'s credentials to no other host`);
    }
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

  /** The realm the registry's own challenge named, if credentials may go there. */
  private realm(): URL {
    const { realm } = this.challenge!.params;
    if (!realm) throw new PushError(`${this.host} asked for a Bearer token without naming a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new PushError(`${this.host} named a Bearer realm that is not a URL`);
    }
    if (url.protocol === 'https:') return url;
    if (url.protocol === 'http:' && this.transport.isInsecure(url.host)) return url;
    throw new PushError(
      `${this.host} named the Bearer realm ${url.origin}${url.pathname}, which is not HTTPS; ferry sends credentials there only when that host is named by --insecure-registry`,
    );
  }

  private async fetchToken(scopes: readonly string[]): Promise<Token> {
    const url = this.realm();
    const { service } = this.challenge!.params;
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const where = `token service ${url.origin}${url.pathname} for ${this.host}`;
    const creds = await this.source.get(false);
    const res = await this.transport.send({ method: 'GET', url, headers: creds ? { authorization: basic(creds) } : {}, secretAnswer: true });
    if (res.status === 401 || res.status === 403) throw this.refused();
    // Status only: a token service's body may hold a token or echo credentials (and a redirect is not followed).
    if (res.status !== 200) throw new PushError(`${where} answered ${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim());
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new PushError(`${where} answered with a body that is not JSON`);
    }
    const value = body?.token ?? body?.access_token;
    if (typeof value !== 'string' || value === '') throw new PushError(`${where} returned no token`);
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { value, expiresAt: Date.now() + seconds * 1000 };
  }
}
