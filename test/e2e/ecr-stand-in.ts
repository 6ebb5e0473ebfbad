/**
 * A STAND-IN for Amazon ECR, not ECR: its API answers GetAuthorizationToken, and an
 * authenticating proxy plays the registry endpoint `<account>.dkr.ecr.<region>.<suffix>` in front
 * of a real Debian docker-registry on 127.0.0.1 (one per registry host).
 *  - GetAuthorizationToken: SigV4-signed by stand-in credentials, for the endpoint's region and
 *    service `ecr`; the role's synthesized identity policy must allow ecr:GetAuthorizationToken.
 *    The password it returns is bound to that role and region.
 *  - Every registry request: Basic `AWS:<password>` issued for this region; the repository must
 *    exist in the synthesized templates of that account and region; the ECR action the request
 *    needs (push or pull) must be allowed on the repository ARN by the role's identity policy,
 *    and a repository of another account is refused (ferry creates no repository policies).
 *    Only then is the request forwarded to the real registry.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { type AwsHost, partitionOf } from './aws-hosts';
import { evaluateIdentity, type IamWorld } from './iam-world';
import { type Session, type Sessions, StsError } from './sts-stand-in';

export interface RegistryGrant {
  readonly session: Session;
  readonly region: string;
  readonly partition: string;
  readonly expiresAt: number;
}

export interface EcrCall {
  readonly api: string;
  readonly host: string;
  readonly region: string;
  readonly roleArn?: string;
  readonly repository?: string;
  readonly action?: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface EcrStandInOptions {
  readonly world: () => IamWorld;
  readonly sessions: Sessions;
  /** The real registry behind each ECR registry host: `127.0.0.1:<port>` (plain HTTP). */
  readonly backends: ReadonlyMap<string, string>;
}

const TOKEN_LIFETIME_MS = 12 * 3600_000;

/** The ECR action a registry API request needs, by method and path. */
export function registryAction(
  method: string,
  path: string,
  query: URLSearchParams,
): { repository: string; actions: string[]; mountFrom?: string } | undefined {
  const m = /^\/v2\/(.+?)\/(blobs\/uploads\/.*|blobs\/uploads|blobs\/[^/]+|manifests\/[^/]+|referrers\/[^/]+|tags\/list)$/.exec(path);
  if (!m) return undefined;
  const [, repository, rest] = m;
  const read = method === 'GET' || method === 'HEAD';
  if (rest.startsWith('blobs/uploads')) {
    const action =
      method === 'POST'
        ? 'ecr:InitiateLayerUpload'
        : method === 'PATCH'
          ? 'ecr:UploadLayerPart'
          : method === 'PUT'
            ? 'ecr:CompleteLayerUpload'
            : 'ecr:UploadLayerPart';
    return { repository, actions: [action], mountFrom: method === 'POST' ? (query.get('from') ?? undefined) : undefined };
  }
  if (rest.startsWith('blobs/'))
    return { repository, actions: [method === 'HEAD' ? 'ecr:BatchCheckLayerAvailability' : read ? 'ecr:GetDownloadUrlForLayer' : 'ecr:BatchDeleteImage'] };
  // The OCI referrers API reads manifests: the same permission as pulling one.
  if (rest.startsWith('referrers/')) return { repository, actions: ['ecr:BatchGetImage'] };
  if (rest.startsWith('manifests/')) return { repository, actions: [read ? 'ecr:BatchGetImage' : method === 'PUT' ? 'ecr:PutImage' : 'ecr:BatchDeleteImage'] };
  return { repository, actions: ['ecr:ListImages'] };
}

function registryError(res: http.ServerResponse, status: number, code: string, message: string, host?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'docker-distribution-api-version': 'registry/2.0' };
  if (status === 401 && host) headers['www-authenticate'] = `Basic realm="https://${host}/",service="ecr.amazonaws.com"`;
  res.writeHead(status, headers);
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}

export class EcrStandIn {
  readonly calls: EcrCall[] = [];
  private readonly grants = new Map<string, RegistryGrant>();

  constructor(private readonly opts: EcrStandInOptions) {}

  /** Registry passwords handed out: none may show up in a log. */
  passwords(): string[] {
    return [...this.grants.keys()];
  }

  async api(req: http.IncomingMessage, body: Buffer, endpoint: AwsHost): Promise<{ status: number; body: string }> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const record: { -readonly [K in keyof EcrCall]?: EcrCall[K] } = {
      api: target.replace(/^.*\./, 'ecr:'),
      host: String(req.headers.host),
      region: endpoint.region,
    };
    try {
      if (target !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken')
        throw new StsError(400, 'UnknownOperationException', `the stand-in does not implement ${target}`);
      const session = await this.opts.sessions.authenticate(req, body, endpoint, 'ecr');
      record.roleArn = session.role.arn;
      const decision = evaluateIdentity(session.role, 'ecr:GetAuthorizationToken', '*', { 'aws:RequestedRegion': [endpoint.region] });
      if (!decision.allowed) throw new StsError(400, 'AccessDeniedException', decision.reason);
      const password = randomBytes(32).toString('base64url');
      const expiresAt = Date.now() + TOKEN_LIFETIME_MS;
      this.grants.set(password, { session, region: endpoint.region, partition: endpoint.partition, expiresAt });
      this.calls.push({ ...record, ok: true } as EcrCall);
      return {
        status: 200,
        body: JSON.stringify({
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: expiresAt / 1000,
              proxyEndpoint: `https://${session.role.account}.dkr.ecr.${endpoint.region}.${partitionOf(endpoint.region).dnsSuffix}`,
            },
          ],
        }),
      };
    } catch (err) {
      const e = err instanceof StsError ? err : new StsError(500, 'ServerException', (err as Error).message);
      // JSON-protocol services spell the credential errors as exceptions.
      const type =
        {
          InvalidClientTokenId: 'UnrecognizedClientException',
          SignatureDoesNotMatch: 'InvalidSignatureException',
          MissingAuthenticationToken: 'MissingAuthenticationTokenException',
          ExpiredToken: 'ExpiredTokenException',
          IncompleteSignature: 'IncompleteSignatureException',
        }[e.code] ?? e.code;
      this.calls.push({ ...record, ok: false, error: `${type}: ${e.message}` } as EcrCall);
      return { status: e.status, body: JSON.stringify({ __type: type, message: e.message }) };
    }
  }

  /** The registry endpoint: authenticate, authorize against the synthesized policies, then forward. */
  registry(req: http.IncomingMessage, res: http.ServerResponse, endpoint: AwsHost): void {
    const host = String(req.headers.host).replace(/:\d+$/, '');
    const url = new URL(req.url ?? '/', `https://${host}`);
    const record: { -readonly [K in keyof EcrCall]?: EcrCall[K] } = { api: `${req.method} ${url.pathname}`, host, region: endpoint.region };
    const refuse = (status: number, code: string, message: string): void => {
      this.calls.push({ ...record, ok: false, error: `${status} ${code}: ${message}` } as EcrCall);
      req.resume();
      registryError(res, status, code, message, host);
    };
    const backend = this.opts.backends.get(host);
    if (!backend) return refuse(404, 'NAME_UNKNOWN', `no registry behind ${host} in this test`);
    const auth = /^Basic (.+)$/i.exec(String(req.headers.authorization ?? ''));
    const [user, ...rest] = auth ? Buffer.from(auth[1], 'base64').toString('utf8').split(':') : [];
    const grant = auth && user === 'AWS' ? this.grants.get(rest.join(':')) : undefined;
    if (!grant || grant.expiresAt < Date.now()) return refuse(401, 'UNAUTHORIZED', 'authentication required');
    record.roleArn = grant.session.role.arn;
    if (grant.region !== endpoint.region)
      return refuse(401, 'UNAUTHORIZED', `authentication required (stand-in: the token was issued in ${grant.region}, this registry is in ${endpoint.region})`);
    if (url.pathname === '/v2/' || url.pathname === '/v2') return this.forward(req, res, backend, record);
    const needed = registryAction(req.method ?? 'GET', url.pathname, url.searchParams);
    if (!needed) return refuse(403, 'DENIED', `the stand-in does not serve ${req.method} ${url.pathname}`);
    record.repository = needed.repository;
    const world = this.opts.world();
    const checks = [{ repository: needed.repository, actions: needed.actions }];
    if (needed.mountFrom) checks.push({ repository: needed.mountFrom, actions: ['ecr:GetDownloadUrlForLayer'] });
    for (const check of checks) {
      const arn = `arn:${endpoint.partition}:ecr:${endpoint.region}:${endpoint.account}:repository/${check.repository}`;
      if (!world.repositories.has(arn))
        return refuse(404, 'NAME_UNKNOWN', `The repository with name '${check.repository}' does not exist in the registry with id '${endpoint.account}'`);
      for (const action of check.actions) {
        record.action = action;
        if (grant.session.role.account !== endpoint.account) {
          return refuse(
            403,
            'DENIED',
            `User: ${grant.session.role.arn} is not authorized to perform: ${action} on resource: ${arn} because no resource-based policy allows the ${action} action`,
          );
        }
        const decision = evaluateIdentity(grant.session.role, action, arn, { 'aws:RequestedRegion': [endpoint.region] });
        if (!decision.allowed) return refuse(403, 'DENIED', decision.reason);
      }
    }
    this.forward(req, res, backend, record);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, backend: string, record: Record<string, unknown>): void {
    const headers = { ...req.headers, 'x-forwarded-proto': 'https' };
    delete headers.authorization;
    const [hostname, port] = backend.split(':');
    const upstream = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers, agent: false }, (answer) => {
      this.calls.push({ ...record, ok: (answer.statusCode ?? 500) < 400 } as EcrCall);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) registryError(res, 502, 'UNAVAILABLE', err.message);
      else res.destroy();
    });
    req.pipe(upstream);
  }
}
