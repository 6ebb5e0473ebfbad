/**
 * HTTP for the registry client on node:http/https: keep-alive agents, TLS verified
 * against the system roots plus any CA the user names, unverified TLS or plain HTTP only
 * for hosts named insecure, per-request deadlines (connect, first byte, minimum
 * throughput) and the retry loop of retry.ts.
 *
 * Messages built here carry method, origin and path only: query strings (upload
 * state, token parameters) and headers (Authorization) never reach an error or a log.
 * Text the registry supplies is sanitised (errors.ts `sanitize`).
 */
import { setMaxListeners } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import type { Readable } from 'node:stream';
import * as tls from 'node:tls';
import { FatalError, PushError, RetryableError, sanitize } from '../common/errors';
import { DEFAULT_TIMEOUT_SECONDS, USER_AGENT } from '../contract';
import { type Deadline, type RequestTimeouts, requestTimeouts } from './deadlines';
import { HostSet } from './host';
import { DEFAULT_RETRY_POLICY, RetryBudget, type RetryPolicy } from './retry';

export interface TransportOptions {
  /** Extra attempts per operation, for connection errors and 408/429/5xx. */
  readonly retries: number;
  /** Hosts that may use plain HTTP or unverified TLS (`host` alone: every port). */
  readonly insecureHosts: HostSet | ReadonlySet<string>;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  readonly ca?: readonly string[];
  /** Backoff and caps; `retries` above wins. */
  readonly retryPolicy?: Partial<RetryPolicy>;
  /** Per-request deadlines; default: derived from the default --timeout. */
  readonly timeouts?: RequestTimeouts;
  /** Where retry notices go. */
  readonly log?: (line: string) => void;
}

export type Body = Buffer | (() => Readable);

export interface Request {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
  /** Overrides the time-to-first-byte deadline (the PUT that completes a large blob). */
  readonly firstByteTimeoutMs?: number;
  /** The destination's overall deadline: aborts the request in flight, bounds retry waits. */
  readonly deadline?: Deadline;
  /** The answer may hold a secret (a token service's): a failure names its status only, never its body. */
  readonly secretAnswer?: boolean;
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
  /** The answer itself (node:http), under the throughput rule while the caller reads it; destroying it ends the request. */
  readonly body: Readable;
}

/** Thrown for failures below HTTP (reset, refused, timeouts); `code` is Node's error code. */
export class ConnectionError extends RetryableError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** A TLS client met a plain-HTTP server: never retried; an insecure host falls back to http://. */
export class PlainHttpError extends FatalError {
  override readonly name = 'PlainHttpError';
}

const RETRY_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);
/** OpenSSL's words for "the other side did not answer the ClientHello with TLS". */
const PLAIN_HTTP_SIGNS = /wrong version number|packet length too long|http request/i;
const MAX_RESPONSE_BYTES = 8 << 20;

/** `METHOD https://host/path`, never the query string. */
export function describe(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. Caps are retry.ts's. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : (Date.parse(value) - now) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : undefined;
}

function connectionError(err: NodeJS.ErrnoException, req: Request): Error {
  const what = describe(req.method, req.url);
  if (err.code && TLS_TRUST_CODES.has(err.code)) {
    return new FatalError(
      `${what}: TLS certificate of ${req.url.host} is not trusted (${err.code}); add its CA with --ca-file, or for a test registry only, --insecure-registry ${req.url.host}`,
    );
  }
  if ((err.code === 'EPROTO' || err.code?.startsWith('ERR_SSL')) && PLAIN_HTTP_SIGNS.test(err.message)) {
    return new PlainHttpError(
      `${req.url.host} answered TLS with plain HTTP; if it is a registry without TLS (a local test registry), name it with --insecure-registry ${req.url.host}`,
    );
  }
  const message = `${what}: ${err.code ?? sanitize(err.message)}${err.code === 'ETIMEDOUT' && err.message !== 'ETIMEDOUT' ? ` (${err.message})` : ''}`;
  return err.code && !RETRY_CODES.has(err.code) && !err.code.startsWith('ERR_SSL') && err.code !== 'EPROTO'
    ? new PushError(message)
    : new ConnectionError(message, err.code);
}

function timeoutError(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

/**
 * Watches one request: the connect deadline, then, while the body goes out, the
 * throughput rule; the first-byte deadline once it is sent; the throughput rule again
 * while the answer comes in. A trickle below the minimum fails like silence.
 *
 * Bytes are read off the socket's own counters once per tick rather than counted per
 * chunk: a blob passes in thousands of 64 KiB chunks, and a listener or a counting
 * stream on each costs event-loop time on the path every byte takes. The counters
 * stop when the reader stops (backpressure pauses the socket), so a body the caller
 * no longer reads still counts as stalled.
 */
class Watchdog {
  private timer?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private socket?: net.Socket;
  private windowStart = 0;
  private windowMark = 0;

  constructor(
    private readonly timeouts: RequestTimeouts,
    private readonly kill: (err: NodeJS.ErrnoException) => void,
  ) {}

  /** The socket whose counters measure the flow (a keep-alive socket's are cumulative: only differences count). */
  watch(socket: net.Socket): void {
    this.socket = socket;
  }

  connecting(): void {
    this.after(this.timeouts.connectMs, `no connection within ${this.timeouts.connectMs / 1000}s`);
  }

  flowing(): void {
    this.stop();
    this.windowStart = Date.now();
    this.windowMark = this.moved();
    const window = this.timeouts.stallWindowMs;
    const min = (this.timeouts.minBytesPerSecond * window) / 1000;
    this.ticker = setInterval(
      () => {
        if (Date.now() - this.windowStart < window) return;
        const bytes = this.moved() - this.windowMark;
        if (bytes < min) this.kill(timeoutError(`stalled: ${bytes} bytes in ${window / 1000}s, below ${this.timeouts.minBytesPerSecond} B/s`));
        this.windowStart = Date.now();
        this.windowMark = this.moved();
      },
      Math.max(50, window / 4),
    );
  }

  waiting(firstByteMs: number): void {
    this.stop();
    this.after(firstByteMs, `no answer within ${firstByteMs / 1000}s`);
  }

  stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.timer = this.ticker = undefined;
  }

  /** Bytes the socket has taken from the request and handed to the answer's reader so far. */
  private moved(): number {
    return (this.socket?.bytesRead ?? 0) + (this.socket?.bytesWritten ?? 0);
  }

  private after(ms: number, message: string): void {
    this.stop();
    this.timer = setTimeout(() => this.kill(timeoutError(message)), ms);
  }
}

export class Transport {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  private readonly insecureAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
  readonly policy: RetryPolicy;
  readonly timeouts: RequestTimeouts;
  /** Aborted by close(): no retry wait outlives the run and keeps the process alive. */
  private readonly closing = new AbortController();

  constructor(readonly options: TransportOptions) {
    const ca = options.ca?.length ? [...tls.rootCertificates, ...options.ca] : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, ca });
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy, retries: options.retries };
    this.timeouts = options.timeouts ?? requestTimeouts(DEFAULT_TIMEOUT_SECONDS);
    setMaxListeners(0, this.closing.signal);
  }

  isInsecure(host: string): boolean {
    const hosts = this.options.insecureHosts;
    return hosts instanceof HostSet ? hosts.has(host) : hosts.has(host.toLowerCase());
  }

  /** A fresh budget for one operation (see retry.ts); its waits end when the transport closes. */
  budget(what: string, deadline?: Deadline): RetryBudget {
    return new RetryBudget(this.policy, what, deadline, this.options.log, this.closing.signal);
  }

  /**
   * Sends, retrying connection errors and 408/429/5xx from `budget` (a fresh one when
   * not given). When the budget is gone the last failure is thrown: a retryable status
   * becomes a RetryableError carrying the registry's message.
   */
  async send(req: Request, budget = this.budget(describe(req.method, req.url), req.deadline)): Promise<Response> {
    for (;;) {
      let failure: RetryableError;
      try {
        const res = await this.once(req);
        if (!isRetryableStatus(res.status)) return res;
        const answer = req.secretAnswer ? `${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim() : registryError(res);
        failure = new RetryableError(`${describe(req.method, req.url)} answered ${answer}`, retryAfterSeconds(header(res, 'retry-after')));
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        failure = err;
      }
      await budget.spend(failure);
    }
  }

  /**
   * One attempt. Connection failures and deadlines reject; every HTTP status resolves.
   * Plain HTTP only to hosts the user named insecure: a Location header or a token realm
   * must not be able to downgrade a verified registry and carry its credentials in clear.
   */
  once(req: Request): Promise<Response> {
    return this.start(req, (incoming, settle) => {
      readBody(incoming, req.method === 'HEAD').then(
        (body) => settle.resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }),
        settle.reject,
      );
    });
  }

  /**
   * One bodiless attempt whose answer body is handed over unread, so a blob can flow from
   * one registry to others without being held in memory. Same TLS, plain-HTTP and
   * deadline rules as once(): a stalled or trickling body fails its reader with a
   * retryable ConnectionError. The caller retries (it knows who still needs the bytes).
   */
  open(req: Request): Promise<StreamResponse> {
    return this.start(
      req,
      (incoming, settle) => {
        settle.resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: incoming });
      },
      true,
    );
  }

  /**
   * Sends one request under its deadlines; `answer` settles the promise once headers
   * arrive. With `streaming`, the watchdog keeps guarding the body after the promise has
   * settled, and ends when the body closes.
   */
  private start<T>(
    req: Request,
    answer: (incoming: http.IncomingMessage, settle: { resolve: (v: T) => void; reject: (e: Error) => void }) => void,
    streaming = false,
  ): Promise<T> {
    if (req.url.protocol === 'http:' && !this.isInsecure(req.url.host)) {
      return Promise.reject(
        new FatalError(
          `refusing plain HTTP to ${req.url.host} (${req.method} ${req.url.pathname}); name it with --insecure-registry ${req.url.host} to allow it`,
        ),
      );
    }
    const { deadline } = req;
    if (deadline?.signal.aborted) return Promise.reject(deadline.signal.reason);
    return new Promise<T>((resolve, reject) => {
      let bodyError: Error | undefined;
      let aborted: Error | undefined;
      let response: http.IncomingMessage | undefined;
      let settled = false;
      const kill = (err: NodeJS.ErrnoException) => {
        response?.destroy(streaming && settled ? connectionError(err, req) : err);
        outgoing.destroy(err);
      };
      const watchdog = new Watchdog(this.timeouts, kill);
      const onAbort = () => {
        aborted = deadline!.signal.reason;
        kill(aborted!);
      };
      const done = () => {
        watchdog.stop();
        deadline?.signal.removeEventListener('abort', onAbort);
      };
      const fail = (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        done();
        reject(aborted ?? bodyError ?? (err instanceof PushError ? err : connectionError(err, req)));
      };
      const succeed = (value: T) => {
        settled = true;
        if (!streaming) done();
        resolve(value);
      };
      // Every request, token realms and blob storage included, names ferry and its version
      // (registries and ECR log it); a caller's own User-Agent would win, none sets one.
      const headers = { 'user-agent': USER_AGENT, ...req.headers };
      const outgoing = this.module(req.url).request(req.url, { method: req.method, headers, agent: this.agent(req.url) });
      deadline?.signal.addEventListener('abort', onAbort, { once: true });
      outgoing.on('error', fail);
      // 'finish' (the request handed to the socket) may come before the socket connects.
      let connected = false;
      let sent = false;
      const firstByteMs = req.firstByteTimeoutMs ?? this.timeouts.firstByteMs;
      const connectedNow = () => {
        connected = true;
        if (sent) watchdog.waiting(firstByteMs);
        else watchdog.flowing();
      };
      outgoing.on('socket', (socket) => {
        watchdog.watch(socket);
        if (!socket.connecting) {
          connectedNow();
          return;
        }
        watchdog.connecting();
        socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', connectedNow);
      });
      outgoing.on('finish', () => {
        sent = true;
        if (connected && !response) watchdog.waiting(firstByteMs);
      });
      let source: Readable | undefined;
      outgoing.on('response', (incoming) => {
        response = incoming;
        if (source && !source.readableEnded) source.unpipe(outgoing).destroy();
        watchdog.flowing();
        if (streaming) incoming.once('close', done);
        answer(incoming, { resolve: succeed, reject: fail });
      });
      if (typeof req.body === 'function') {
        source = req.body();
        source.on('error', (err) => {
          bodyError = err;
          outgoing.destroy(err);
        });
        source.pipe(outgoing);
      } else {
        outgoing.end(req.body);
      }
    });
  }

  close(): void {
    this.closing.abort(new PushError('the run is over'));
    for (const agent of [this.httpAgent, this.httpsAgent, this.insecureAgent]) agent.destroy();
  }

  private module(url: URL): typeof http | typeof https {
    return url.protocol === 'http:' ? http : https;
  }

  private agent(url: URL): http.Agent {
    if (url.protocol === 'http:') return this.httpAgent;
    return this.isInsecure(url.host) ? this.insecureAgent : this.httpsAgent;
  }
}

function readBody(incoming: http.IncomingMessage, head: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) incoming.destroy(Object.assign(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`), { code: 'EFBIG' }));
      else if (!head) chunks.push(chunk);
    });
    incoming.on('end', () => resolve(Buffer.concat(chunks)));
    incoming.on('error', reject);
    incoming.on('aborted', () => reject(Object.assign(new Error('answer cut off'), { code: 'ECONNRESET' })));
  });
}

export function header(res: Pick<Response, 'headers'>, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The registry's own explanation of an error response, sanitised, for messages. */
export function registryError(res: Response): string {
  try {
    const errors = JSON.parse(res.body.toString('utf8')).errors as { code?: unknown; message?: unknown }[];
    const text = errors.map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x).join(': ')).join('; ');
    if (text) return `${res.status} ${sanitize(text)}`;
  } catch {
    // not the registry's JSON error shape
  }
  return `${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trim();
}

/** Turns an unexpected answer into an error; transient ones (408, 429, 5xx) become retryable. */
export function unexpected(what: string, res: Response): PushError {
  const message = `${what} answered ${registryError(res)}`;
  return isRetryableStatus(res.status) ? new RetryableError(message, retryAfterSeconds(header(res, 'retry-after'))) : new PushError(message);
}
