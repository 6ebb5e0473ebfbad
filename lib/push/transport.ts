/**
 * HTTP for the registry client on node:http/https: keep-alive agents, TLS verified
 * against the system roots plus any CA the user names, unverified TLS or plain HTTP only
 * for hosts named insecure, and retries with exponential backoff and jitter.
 *
 * Messages built here carry method, origin and path only: query strings (upload
 * state, token parameters) and headers (Authorization) never reach an error or a log.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { Readable } from 'node:stream';
import { sleep } from './concurrency';
import { PushError, RetryableError } from './errors';

export interface TransportOptions {
  /** Extra attempts after the first, for connection errors and 408/429/5xx. */
  readonly retries: number;
  /** `host[:port]` values that may use plain HTTP or unverified TLS. */
  readonly insecureHosts: ReadonlySet<string>;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  readonly ca?: readonly string[];
  /** First backoff delay; later ones grow threefold, as crane's (1 s, 3 s, 9 s ...). */
  readonly backoffMs?: number;
  /** Where retry notices go. */
  readonly log?: (line: string) => void;
}

export type Body = Buffer | (() => Readable);

export interface Request {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
}

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A response whose body is left unread, for the caller to stream (blob downloads). */
export interface StreamResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: http.IncomingMessage;
}

/** Thrown for failures below HTTP; `code` lets the caller try plain HTTP on an insecure host. */
export class ConnectionError extends RetryableError {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE']);
const TLS_TRUST_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED']);
const MAX_RESPONSE_BYTES = 8 << 20;
const IDLE_TIMEOUT_MS = 120_000;
const MAX_RETRY_AFTER_S = 120;

/** `METHOD https://host/path`, never the query string. */
export function describe(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - now) / 1000;
  return Number.isFinite(seconds) ? Math.min(MAX_RETRY_AFTER_S, Math.max(0, seconds)) : undefined;
}

/** Exponential backoff with jitter: the n-th delay is base·3ⁿ scaled by a random 50–100 %. */
export function backoffMs(attempt: number, baseMs: number, random = Math.random): number {
  return Math.round(baseMs * 3 ** attempt * (0.5 + random() / 2));
}

function connectionError(err: NodeJS.ErrnoException, req: Request): PushError {
  const what = describe(req.method, req.url);
  if (err.code && TLS_TRUST_CODES.has(err.code)) {
    return new PushError(`${what}: TLS certificate of ${req.url.host} is not trusted (${err.code}); add its CA with --ca-file, or for a test registry only, --insecure-registry ${req.url.host}`);
  }
  const message = `${what}: ${err.code ?? err.message}`;
  return err.code && !RETRY_CODES.has(err.code) && !err.code.startsWith('ERR_SSL') && err.code !== 'EPROTO'
    ? new PushError(message)
    : new ConnectionError(message, err.code);
}

export class Transport {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  private readonly insecureAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

  constructor(readonly options: TransportOptions) {
    const ca = options.ca?.length ? [...tls.rootCertificates, ...options.ca] : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, ca });
  }

  isInsecure(host: string): boolean {
    return this.options.insecureHosts.has(host.toLowerCase());
  }

  /** Sends with retries; a response with a retryable status after the last attempt is returned as is. */
  async send(req: Request): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= this.options.retries;
      try {
        const res = await this.once(req);
        if (last || !isRetryableStatus(res.status)) return res;
        await this.pause(attempt, `${describe(req.method, req.url)} answered ${res.status}`, retryAfterSeconds(header(res, 'retry-after')));
      } catch (err) {
        if (last || !(err instanceof RetryableError)) throw err;
        await this.pause(attempt, err.message, err.retryAfterSeconds);
      }
    }
  }

  /** Runs a multi-request operation (a blob upload) again from the start on transient failure. */
  async retry<T>(what: string, operation: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (err) {
        if (attempt >= this.options.retries || !(err instanceof RetryableError)) throw err;
        await this.pause(attempt, `${what}: ${err.message}`, err.retryAfterSeconds);
      }
    }
  }

  /**
   * One attempt. Connection failures reject; every HTTP status resolves.
   * Plain HTTP only to hosts the user named insecure: a Location header or a token realm
   * must not be able to downgrade a verified registry and carry its credentials in clear.
   */
  once(req: Request): Promise<Response> {
    if (req.url.protocol === 'http:' && !this.isInsecure(req.url.host)) {
      return Promise.reject(new PushError(`refusing plain HTTP to ${req.url.host} (${req.method} ${req.url.pathname}); name it with --insecure-registry ${req.url.host} to allow it`));
    }
    return new Promise((resolve, reject) => {
      let bodyError: Error | undefined;
      const fail = (err: NodeJS.ErrnoException) => reject(bodyError ?? connectionError(err, req));
      const outgoing = this.module(req.url).request(req.url, { method: req.method, headers: req.headers, agent: this.agent(req.url) });
      outgoing.setTimeout(IDLE_TIMEOUT_MS, () => outgoing.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      outgoing.on('error', fail);
      let source: Readable | undefined;
      outgoing.on('response', (incoming) => {
        if (source && !source.readableEnded) source.unpipe(outgoing).destroy();
        readBody(incoming, req.method === 'HEAD').then((body) => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }), fail);
      });
      if (typeof req.body === 'function') {
        source = req.body();
        source.on('error', (err) => { bodyError = err; outgoing.destroy(err); });
        source.pipe(outgoing);
      } else {
        outgoing.end(req.body);
      }
    });
  }

  /**
   * One bodiless request whose response body is handed over unread, so a blob can flow
   * from one registry to others without being held in memory. Same TLS and plain-HTTP
   * rules as once(); the caller retries (it knows which consumers still need the bytes).
   */
  open(req: Request): Promise<StreamResponse> {
    if (req.url.protocol === 'http:' && !this.isInsecure(req.url.host)) {
      return Promise.reject(new PushError(`refusing plain HTTP to ${req.url.host} (${req.method} ${req.url.pathname}); name it with --insecure-registry ${req.url.host} to allow it`));
    }
    return new Promise((resolve, reject) => {
      const outgoing = this.module(req.url).request(req.url, { method: req.method, headers: req.headers, agent: this.agent(req.url) });
      outgoing.setTimeout(IDLE_TIMEOUT_MS, () => outgoing.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      outgoing.on('error', (err: NodeJS.ErrnoException) => reject(connectionError(err, req)));
      outgoing.on('response', (incoming) => {
        // From here the idle timeout belongs to the body: a stalled download fails its reader.
        incoming.setTimeout(IDLE_TIMEOUT_MS, () => incoming.destroy(connectionError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), req)));
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: incoming });
      });
      outgoing.end();
    });
  }

  close(): void {
    for (const agent of [this.httpAgent, this.httpsAgent, this.insecureAgent]) agent.destroy();
  }

  private module(url: URL): typeof http | typeof https {
    return url.protocol === 'http:' ? http : https;
  }

  private agent(url: URL): http.Agent {
    if (url.protocol === 'http:') return this.httpAgent;
    return this.isInsecure(url.host) ? this.insecureAgent : this.httpsAgent;
  }

  private async pause(attempt: number, why: string, retryAfter: number | undefined): Promise<void> {
    const ms = retryAfter !== undefined ? retryAfter * 1000 : backoffMs(attempt, this.options.backoffMs ?? 1000);
    this.options.log?.(`retrying in ${(ms / 1000).toFixed(1)}s (attempt ${attempt + 2} of ${this.options.retries + 1}): ${why}`);
    await sleep(ms);
  }
}

function readBody(incoming: http.IncomingMessage, head: boolean): Promise<Buffer> {
  if (head) {
    incoming.resume();
    return Promise.resolve(Buffer.alloc(0));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) incoming.destroy(Object.assign(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`), { code: 'EFBIG' }));
      else chunks.push(chunk);
    });
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
  });
}

export function header(res: Pick<Response, 'headers'>, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The registry's own explanation of an error response, for messages. */
export function registryError(res: Response): string {
  try {
    const errors = JSON.parse(res.body.toString('utf8')).errors as { code?: string; message?: string }[];
    const text = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    if (text) return `${res.status} ${text}`;
  } catch {
    // not the registry's JSON error shape
  }
  return `${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim();
}
