/**
 * A fault injector in front of a real registry (plain HTTP towards ferry; HTTP or TLS
 * towards the registry). It forwards every request, except that it answers the first N
 * requests matching a rule itself, or, in random mode, a share of all requests picked by a repeatable sequence:
 *  - status: an error status (500, 503, 429 with Retry-After, 400 with a chosen body);
 *  - reset: the connection dropped before any answer;
 *  - reset-mid-body: half a request body read (or half an answer sent), then dropped;
 *  - stall: the connection accepted and never answered;
 *  - trickle: the answer sent one byte every `ms`;
 *  - swallow: a 201 with the right Docker-Content-Digest, the request NOT forwarded (a lying registry);
 *  - location: forwarded, with the Location header moved to another host;
 *  - redirect: a 307 to another host;
 *  - delay: forwarded after `ms`.
 * It records every request (method, path, Authorization) and the most requests of each
 * method it held at once, so tests can see what the client did.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { sha256 } from './fixtures';

export type FaultKind = 'status' | 'status503' | 'reset' | 'reset-mid-body' | 'stall' | 'trickle' | 'swallow' | 'location' | 'redirect' | 'delay';

export interface Fault {
  readonly method: string;
  readonly pathIncludes: string;
  /** How many matching requests fail before the rest pass. */
  times: number;
  readonly kind: FaultKind;
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** trickle: between bytes; delay: before forwarding. */
  readonly ms?: number;
  /** location, redirect: the host (host:port) the client is sent to. */
  readonly toHost?: string;
}

export interface RandomFaults {
  /** Share of requests that get a fault, 0..1. */
  readonly rate: number;
  /** Start value of the generator: the same value gives the same faults. */
  readonly sequence: number;
  readonly kinds: readonly Fault[];
}

export interface Upstream {
  readonly host: string;
  readonly tls?: boolean;
  readonly ca?: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
  fault?: FaultKind;
}

export interface FaultyProxy {
  readonly host: string;
  readonly counts: Record<string, number>;
  readonly faults: Fault[];
  readonly seen: SeenRequest[];
  /** Most requests of one method in flight at once. */
  readonly maxInFlight: Record<string, number>;
  stop(): Promise<void>;
}

/** mulberry32: a small generator whose sequence is fixed by its start value, so a random-fault run can be repeated. */
function repeatable(start: number): () => number {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultyProxy(upstream: string | Upstream, faults: Fault[], random?: RandomFaults): Promise<FaultyProxy> {
  const up: Upstream = typeof upstream === 'string' ? { host: upstream } : upstream;
  const [upHost, upPort] = up.host.split(':');
  const counts: Record<string, number> = {};
  const inFlight: Record<string, number> = {};
  const maxInFlight: Record<string, number> = {};
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const rand = random ? repeatable(random.sequence) : undefined;

  const pick = (req: http.IncomingMessage): Fault | undefined => {
    const listed = faults.find((f) => f.times > 0 && f.method === req.method && req.url!.includes(f.pathIncludes));
    if (listed) {
      listed.times--;
      return listed;
    }
    if (rand && random && rand() < random.rate) return random.kinds[Math.floor(rand() * random.kinds.length)];
    return undefined;
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    onAnswer: (status: number, headers: http.IncomingHttpHeaders, answer: Buffer) => void,
  ) => {
    // The Host header stays the proxy's: the registry builds its Location URLs from it.
    const upstreamReq = (up.tls ? https : http).request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers, ca: up.ca, agent: false },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => onAnswer(answer.statusCode!, answer.headers, Buffer.concat(chunks)));
      },
    );
    upstreamReq.on('error', () => res.destroy());
    upstreamReq.end(body);
  };

  const pass = (res: http.ServerResponse) => (status: number, headers: http.IncomingHttpHeaders, answer: Buffer) => {
    res.writeHead(status, headers);
    res.end(answer);
  };

  const readBody = (req: http.IncomingMessage): Promise<Buffer> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', () => resolve(Buffer.alloc(0)));
    });

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, fault: Fault | undefined): Promise<void> {
    const kind = fault?.kind;
    if (kind === 'stall') return; // never read, never answer
    if (kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (kind === 'reset-mid-body' && Number(req.headers['content-length'] ?? 0) > 1) {
      const half = Number(req.headers['content-length']) / 2;
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= half) req.socket.destroy();
      });
      return;
    }
    const body = await readBody(req);
    switch (kind) {
      case 'status503':
        res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected by the test proxy"}]}');
        return;
      case 'status':
        res.writeHead(fault!.status ?? 500, { 'content-type': 'application/json', ...fault!.headers });
        res.end(fault!.body ?? `{"errors":[{"code":"INJECTED","message":"status ${fault!.status} injected by the test proxy"}]}`);
        return;
      case 'swallow':
        res.writeHead(201, { 'docker-content-digest': sha256(body), 'content-length': '0' });
        res.end();
        return;
      case 'redirect':
        res.writeHead(307, { location: `https://${fault!.toHost}${req.url}`, 'content-length': '0' });
        res.end();
        return;
      case 'delay':
        later(fault!.ms ?? 100, () => forward(req, res, body, pass(res)));
        return;
      case 'location':
        forward(req, res, body, (status, headers, answer) => {
          if (headers.location) {
            const moved = new URL(String(headers.location), `http://${up.host}`);
            headers.location = `https://${fault!.toHost}${moved.pathname}${moved.search}`;
          }
          pass(res)(status, headers, answer);
        });
        return;
      case 'trickle':
        forward(req, res, body, (status, headers, answer) => {
          res.writeHead(status, { ...headers, 'content-length': String(answer.length + 64) });
          const bytes = Buffer.concat([answer, Buffer.alloc(64, 0x20)]);
          let i = 0;
          const next = () => {
            if (i < bytes.length && !res.destroyed) {
              res.write(bytes.subarray(i, ++i));
              later(fault!.ms ?? 500, next);
            }
          };
          next();
        });
        return;
      case 'reset-mid-body':
        forward(req, res, body, (status, headers, answer) => {
          if (answer.length < 2) {
            req.socket.destroy();
            return;
          }
          res.writeHead(status, headers);
          res.write(answer.subarray(0, answer.length >> 1), () => req.socket.destroy());
        });
        return;
      default:
        forward(req, res, body, pass(res));
    }
  }

  const server = http.createServer((req, res) => {
    const method = req.method!;
    counts[method] = (counts[method] ?? 0) + 1;
    inFlight[method] = (inFlight[method] ?? 0) + 1;
    maxInFlight[method] = Math.max(maxInFlight[method] ?? 0, inFlight[method]);
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        inFlight[method]--;
      }
    };
    res.on('close', release);
    const fault = pick(req);
    seen.push({ method, url: req.url!, authorization: req.headers.authorization, fault: fault?.kind });
    void handle(req, res, fault);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    faults,
    seen,
    maxInFlight,
    stop: () =>
      new Promise((resolve) => {
        timers.forEach(clearTimeout);
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
