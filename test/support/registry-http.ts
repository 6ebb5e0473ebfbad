import * as http from 'node:http';
import * as https from 'node:https';
import type { TestRegistry } from '../push/registry-server';

/** One raw request to a test registry (its CA trusted on TLS), the whole body read as text. */
export function registryHttp(
  registry: TestRegistry,
  urlPath: string,
  method: string,
  headers: http.OutgoingHttpHeaders,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const url = `${registry.tls ? 'https' : 'http'}://${registry.host}${urlPath}`;
    const req = (registry.tls ? https : http).request(url, { method, ca: registry.ca, agent: false, headers }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
