/**
 * The stand-ins' one TLS front on 127.0.0.1: it answers, by the Host header, every AWS host
 * name the ferry process sends to it (through the push tests' preload, aws-hosts-hook.cjs:
 * only the address changes; TLS is verified against the real name): the STS and ECR API endpoints of every
 * region, the ECR registry endpoints (each in front of its own real docker-registry), and the
 * OIDC issuers' discovery and JWKS documents. A host it does not know gets 421.
 */

import type * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { certificateNames, parseAwsHost } from './aws-hosts';
import { EcrStandIn } from './ecr-stand-in';
import type { IamWorld } from './iam-world';
import type { TestIssuer } from './issuers';
import { ECR_READS, parseReadHost, ReadStandIns, readHostNames } from './read-stand-ins';
import { Sessions, StsStandIn } from './sts-stand-in';
import { issueCertificates, type TestCertificates } from './test-ca';

/** The preload that sends every AWS host name to a local port (shared with the push tests). */
export const PRELOAD = path.join(__dirname, '..', 'push', 'aws-hosts-hook.cjs');

export interface AwsFrontOptions {
  readonly dir: string;
  /** Regions whose endpoints the certificate covers. */
  readonly regions: readonly string[];
  readonly issuers: readonly TestIssuer[];
  /** Outbound issuers (a subset of `issuers`): GetWebIdentityToken signs with these. */
  readonly outboundIssuers: readonly TestIssuer[];
  /** ECR registry host -> `127.0.0.1:<port>` of its docker-registry. */
  readonly backends: ReadonlyMap<string, string>;
  readonly world: IamWorld;
}

export class AwsFront {
  /** Replace to change what IAM holds (negative tests mutate a copy of the templates). */
  world: IamWorld;
  readonly sts: StsStandIn;
  readonly ecr: EcrStandIn;
  readonly sessions = new Sessions();
  /** The read APIs of ferry doctor (CloudFormation, IAM, ECR), answered from what `reads.deploy` was given. */
  readonly reads = new ReadStandIns(this.sessions);

  private constructor(
    private readonly server: https.Server,
    readonly certs: TestCertificates,
    private readonly issuers: readonly TestIssuer[],
    opts: AwsFrontOptions,
  ) {
    this.world = opts.world;
    const world = (): IamWorld => this.world;
    const fetchJson = (url: string): Promise<unknown> => this.fetchJson(url);
    this.sts = new StsStandIn({ world, sessions: this.sessions, outboundIssuers: new Map(opts.outboundIssuers.map((i) => [i.url, i])), fetchJson });
    this.ecr = new EcrStandIn({ world, sessions: this.sessions, backends: opts.backends });
  }

  static async start(opts: AwsFrontOptions): Promise<AwsFront> {
    const certs = issueCertificates(opts.dir, certificateNames(opts.regions, [...opts.issuers.map((i) => i.host), ...readHostNames(opts.regions)]));
    const server = https.createServer({ cert: certs.cert, key: certs.key });
    const front = new AwsFront(server, certs, opts.issuers, opts);
    server.on('request', (req, res) => {
      front.route(req, res).catch((err) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return front;
  }

  /** `127.0.0.1:<port>` */
  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** What the ferry process needs to reach the front instead of AWS, with TLS verified against the test CA. */
  processEnv(): Record<string, string> {
    return {
      NODE_OPTIONS: `--require ${PRELOAD}`,
      NODE_EXTRA_CA_CERTS: this.certs.caFile,
      FERRY_TEST_AWS_STAND_IN: this.address.split(':')[1],
    };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = String(req.headers.host ?? '')
      .replace(/:\d+$/, '')
      .toLowerCase();
    const endpoint = parseAwsHost(host);
    if (endpoint?.service === 'ecr-registry') return this.ecr.registry(req, res, endpoint);
    const body = await readBody(req);
    if (endpoint?.service === 'sts') return send(res, await this.sts.handle(req, body, endpoint), 'text/xml');
    const ecrRead = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonEC2ContainerRegistry_V20150921\./, '');
    if (endpoint?.service === 'ecr-api' && ECR_READS.has(ecrRead))
      return send(res, await this.reads.ecr(req, body, endpoint, ecrRead), 'application/x-amz-json-1.1');
    if (endpoint?.service === 'ecr-api') return send(res, await this.ecr.api(req, body, endpoint), 'application/x-amz-json-1.1');
    const read = parseReadHost(host);
    if (read) return send(res, await this.reads.query(req, body, read), 'text/xml');
    const issuer = this.issuers.find((i) => i.host === host);
    const document = issuer?.document(new URL(req.url ?? '/', 'https://x').pathname);
    if (document) return send(res, { status: 200, body: JSON.stringify(document) }, 'application/json');
    send(res, { status: issuer ? 404 : 421, body: `the stand-ins do not serve https://${host}${req.url}` }, 'text/plain');
  }

  /** GET a JSON document from a host behind this front, verifying TLS with the test CA: how "IAM" reads an issuer's keys. */
  private fetchJson(url: string): Promise<unknown> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: Number(this.address.split(':')[1]),
          servername: target.hostname,
          headers: { host: target.host },
          path: target.pathname,
          ca: this.certs.ca,
          agent: false,
        },
        (res) => {
          readBody(res).then(
            (body) => (res.statusCode === 200 ? resolve(JSON.parse(body.toString('utf8'))) : reject(new Error(`GET ${url} answered ${res.statusCode}`))),
            reject,
          );
        },
      );
      req.on('error', reject);
      req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
    });
  }
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function send(res: http.ServerResponse, answer: { status: number; body: string }, type: string): void {
  res.writeHead(answer.status, { 'content-type': type, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}
