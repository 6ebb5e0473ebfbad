/**
 * A fault injector in front of a real (plain HTTP) registry: forwards every request,
 * except that it answers the first N requests matching a rule itself — a 503 with
 * Retry-After, or a dropped connection. Counts requests by method so tests can see what
 * the client did.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface Fault {
  readonly method: string;
  readonly pathIncludes: string;
  /** How many matching requests fail before the rest pass. */
  times: number;
  readonly kind: 'status503' | 'reset';
}

export interface FaultyProxy {
  readonly host: string;
  readonly counts: Record<string, number>;
  readonly faults: Fault[];
  stop(): Promise<void>;
}

export async function startFaultyProxy(upstreamHost: string, faults: Fault[]): Promise<FaultyProxy> {
  const counts: Record<string, number> = {};
  const [upHost, upPort] = upstreamHost.split(':');
  const server = http.createServer((req, res) => {
    counts[req.method!] = (counts[req.method!] ?? 0) + 1;
    const fault = faults.find((f) => f.times > 0 && f.method === req.method && req.url!.includes(f.pathIncludes));
    if (fault) {
      fault.times--;
      req.resume();
      if (fault.kind === 'reset') { req.socket.destroy(); return; }
      res.writeHead(503, { 'retry-after': '0', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected by the test proxy"}]}');
      return;
    }
    const upstream = http.request({ host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    faults,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
