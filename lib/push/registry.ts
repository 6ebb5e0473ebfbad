/**
 * One registry host as the pusher sees it: its base URL (scheme settled once by pinging
 * /v2/), its Authenticator, and which blobs already landed in which of its repositories
 * during this run (so other repositories can mount them instead of uploading again).
 */
import { Authenticator } from './auth';
import { PushError } from './errors';
import { ConnectionError, Request, Response, StreamResponse, Transport, header, registryError } from './transport';

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
}

export class Registry {
  private base?: Promise<URL>;
  /** Blob digest → the repository that has it (or undefined if that upload failed). */
  readonly landed = new Map<string, Promise<string | undefined>>();

  constructor(readonly host: string, readonly transport: Transport, readonly auth: Authenticator) {}

  /** Settles the scheme and learns the auth challenge, once per run. */
  ping(): Promise<URL> {
    this.base ??= this.discover();
    this.base.catch(() => { this.base = undefined; });
    return this.base;
  }

  async request(req: RegistryRequest): Promise<Response> {
    const base = await this.ping();
    const url = new URL(req.target, base);
    // A Location may point elsewhere (a storage redirect); this registry's credentials stay with it.
    const ownHost = url.host === base.host;
    for (let refreshed = false; ; refreshed = true) {
      const authorization = ownHost ? await this.auth.authorization(req.scopes) : undefined;
      const outgoing: Request = { method: req.method, url, body: req.body, headers: { ...req.headers, ...(authorization ? { authorization } : {}) } };
      const res = await (req.retry === false ? this.transport.once(outgoing) : this.transport.send(outgoing));
      if (res.status !== 401) return res;
      if (refreshed) throw this.auth.refused();
      await this.auth.refresh(header(res, 'www-authenticate'));
    }
  }

  /**
   * Like request(), one attempt, with the response body left unread (blob downloads).
   * Only this registry's own host gets its credentials, and only its own 401 refreshes
   * them: a redirect target that asks for credentials is refused.
   */
  async open(req: Omit<RegistryRequest, 'body' | 'retry'>): Promise<StreamResponse> {
    const base = await this.ping();
    const url = new URL(req.target, base);
    const ownHost = url.host === base.host;
    for (let refreshed = false; ; refreshed = true) {
      const authorization = ownHost ? await this.auth.authorization(req.scopes) : undefined;
      const res = await this.transport.open({ method: req.method, url, headers: { ...req.headers, ...(authorization ? { authorization } : {}) } });
      if (res.status !== 401) return res;
      res.body.resume();
      if (!ownHost) throw new PushError(`${url.host}, where ${this.host} redirected a download, asked for credentials; they stay with ${this.host}`);
      if (refreshed) throw this.auth.refused();
      await this.auth.refresh(header(res, 'www-authenticate'));
    }
  }

  /**
   * HTTPS first. A host named insecure may answer HTTPS with any certificate, or only
   * plain HTTP: then the failed TLS handshake sends us to http://.
   */
  private async discover(): Promise<URL> {
    const insecure = this.transport.isInsecure(this.host);
    if (insecure) {
      try {
        return await this.probe(new URL(`https://${this.host}/v2/`), true);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
      }
      return this.probe(new URL(`http://${this.host}/v2/`), false);
    }
    return this.probe(new URL(`https://${this.host}/v2/`), false);
  }

  private async probe(url: URL, single: boolean): Promise<URL> {
    const req: Request = { method: 'GET', url };
    const res = await (single ? this.transport.once(req) : this.transport.send(req));
    if (res.status === 401) this.auth.setChallenge(header(res, 'www-authenticate'));
    else if (res.status !== 200) throw new PushError(`${url.origin}/v2/ answered ${registryError(res)}; is ${this.host} a registry?`);
    return new URL(url.origin);
  }
}
