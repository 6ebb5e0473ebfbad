/**
 * One registry host as the pusher sees it: its base URL (scheme settled once by pinging
 * /v2/), its Authenticator, and which blobs already landed in which of its repositories
 * during this run (so other repositories can mount them instead of uploading again).
 *
 * Credentials stay with the host that asked for them: a request to another host (an
 * upload Location elsewhere) carries no Authorization, and a 401 or any challenge from
 * another host fails the destination instead of refreshing this registry's credentials.
 */

import { FatalError, PushError } from '../common/errors';
import type { Authenticator } from './authn';
import type { Deadline } from './deadlines';
import type { RetryBudget } from './retry';
import {
  ConnectionError,
  describe,
  header,
  PlainHttpError,
  type Request,
  type Response,
  registryError,
  type StreamResponse,
  type Transport,
} from './transport';

export interface RegistryRequest {
  readonly method: string;
  /** A path under the registry (`/v2/...`) or an absolute URL from a Location header. */
  readonly target: string | URL;
  readonly headers?: Record<string, string>;
  readonly body?: Request['body'];
  /** Scopes for Bearer tokens, e.g. `repository:team/app:pull,push`. */
  readonly scopes: readonly string[];
  /** false for requests that cannot be repeated alone (an upload PATCH): the caller retries the whole upload. */
  readonly retry?: boolean;
  /** The operation's retry budget, shared with the other requests of that operation. */
  readonly budget?: RetryBudget;
  /** The destination's overall deadline. */
  readonly deadline?: Deadline;
  /** Time-to-first-byte override (the PUT completing a large blob). */
  readonly firstByteTimeoutMs?: number;
}

export class Registry {
  private base?: Promise<URL>;
  /** Blob digest → the repository that has it (or undefined if that upload failed). */
  readonly landed = new Map<string, Promise<string | undefined>>();

  /**
   * `deadline`: the run's overall deadline (--timeout), for requests that name none.
   * A Registry lives for one run, so every request to it ends by then.
   */
  constructor(
    readonly host: string,
    readonly transport: Transport,
    readonly auth: Authenticator,
    readonly deadline?: Deadline,
  ) {}

  /** Settles the scheme and learns the auth challenge, once per run. */
  ping(deadline = this.deadline): Promise<URL> {
    this.base ??= this.discover(deadline);
    this.base.catch(() => {
      this.base = undefined;
    });
    return this.base;
  }

  /** Where a request goes, under which deadline, and whether that host is this registry (only then are credentials sent). */
  private async resolve<R extends Omit<RegistryRequest, 'body' | 'retry' | 'budget'>>(request: R): Promise<{ req: R; url: URL; ownHost: boolean }> {
    const req = { ...request, deadline: request.deadline ?? this.deadline };
    const base = await this.ping(req.deadline);
    const url = new URL(req.target, base);
    return { req, url, ownHost: url.host === base.host };
  }

  private async headers(ownHost: boolean, req: Pick<RegistryRequest, 'headers' | 'scopes'>): Promise<Record<string, string>> {
    const authorization = ownHost ? await this.auth.authorization(req.scopes) : undefined;
    return { ...req.headers, ...(authorization ? { authorization } : {}) };
  }

  async request(request: RegistryRequest): Promise<Response> {
    const { req, url, ownHost } = await this.resolve(request);
    for (let refreshed = false; ; refreshed = true) {
      const outgoing: Request = {
        method: req.method,
        url,
        body: req.body,
        deadline: req.deadline,
        firstByteTimeoutMs: req.firstByteTimeoutMs,
        headers: await this.headers(ownHost, req),
      };
      const res = await (req.retry === false ? this.transport.once(outgoing) : this.transport.send(outgoing, req.budget));
      if (!ownHost && (res.status === 401 || header(res, 'www-authenticate') !== undefined)) throw this.foreignChallenge(req.method, url, res);
      if (res.status !== 401) return res;
      if (refreshed) throw this.auth.refused();
      await this.auth.refresh(header(res, 'www-authenticate'), url.host);
    }
  }

  /**
   * Like request(), one attempt, with the answer body left unread (blob downloads), under
   * the same rules: credentials only to this registry's host, and a 401 or challenge from
   * any other host (a redirect target) fails instead of refreshing.
   */
  async open(request: Omit<RegistryRequest, 'body' | 'retry' | 'budget'>): Promise<StreamResponse> {
    const { req, url, ownHost } = await this.resolve(request);
    for (let refreshed = false; ; refreshed = true) {
      const res = await this.transport.open({
        method: req.method,
        url,
        deadline: req.deadline,
        firstByteTimeoutMs: req.firstByteTimeoutMs,
        headers: await this.headers(ownHost, req),
      });
      const challenged = res.status === 401 || header(res, 'www-authenticate') !== undefined;
      if (!ownHost && challenged) {
        res.body.destroy();
        throw this.foreignChallenge(req.method, url, { ...res, body: Buffer.alloc(0) });
      }
      if (res.status !== 401) return res;
      res.body.resume();
      if (refreshed) throw this.auth.refused();
      await this.auth.refresh(header(res, 'www-authenticate'), url.host);
    }
  }

  /** A host other than the registry asking for credentials: never answered, and no retry can fix it. */
  private foreignChallenge(method: string, url: URL, res: Response): FatalError {
    return new FatalError(
      `${describe(method, url)} answered ${res.status} with an authentication challenge, but ${url.host} is not the registry ${this.host}; ` +
        `ferry sends ${this.host}'s credentials to no other host (the registry sent this upload to ${url.host})`,
    );
  }

  /**
   * HTTPS first. A host named insecure may answer HTTPS with any certificate, or only
   * plain HTTP: then the failed TLS handshake sends us to http://. For any other host a
   * plain-HTTP answer is reported at once (PlainHttpError), without retries.
   */
  private async discover(deadline?: Deadline): Promise<URL> {
    if (this.transport.isInsecure(this.host)) {
      try {
        return await this.probe(new URL(`https://${this.host}/v2/`), true, deadline);
      } catch (err) {
        if (!(err instanceof ConnectionError || err instanceof PlainHttpError)) throw err;
      }
      return this.probe(new URL(`http://${this.host}/v2/`), false, deadline);
    }
    return this.probe(new URL(`https://${this.host}/v2/`), false, deadline);
  }

  private async probe(url: URL, single: boolean, deadline?: Deadline): Promise<URL> {
    const req: Request = { method: 'GET', url, deadline };
    const res = await (single ? this.transport.once(req) : this.transport.send(req));
    if (res.status === 401) this.auth.setChallenge(header(res, 'www-authenticate'), url.host);
    else if (res.status !== 200) throw new PushError(`${url.origin}/v2/ answered ${registryError(res)}; is ${this.host} a registry?`);
    return new URL(url.origin);
  }
}
