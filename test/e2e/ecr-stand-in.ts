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
 *  - Create on push: a write (blob upload or manifest PUT) to a repository that does not exist is
 *    refused with 404 NAME_UNKNOWN, as ECR does, unless a CREATE_ON_PUSH creation template of that
 *    account and region covers the name, and the pushing role may ecr:CreateRepository it (and
 *    ecr:TagResource when the template tags). A template with tags or a KMS key needs its custom
 *    role, which ECR must be trusted to assume and which must be allowed the same. The repository
 *    then exists with the template's settings (`created`), and its tag mutability is enforced.
 *  - Tag mutability, for every repository: a manifest PUT that would move an immutable tag to
 *    another digest is refused with 400 TAG_INVALID.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { type AwsHost, partitionOf } from './aws-hosts';
import { type CreationTemplate, evaluateIdentity, evaluateServiceTrust, type IamWorld, type Repository, tagIsMutable } from './iam-world';
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

/** The registry API calls that write: ECR creates a missing repository on these only. */
const WRITE_ACTIONS = new Set(['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage']);

/** A repository ECR created on a push, with the template it was created from and who pushed. */
export interface CreatedRepository extends Repository {
  readonly template: CreationTemplate;
  readonly createdBy: string;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

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
  /** Repositories created on push, by ARN: they outlive a change of `world` (CloudFormation did not make them). */
  readonly created = new Map<string, CreatedRepository>();
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
    let repository: Repository | undefined;
    for (const check of checks) {
      const arn = `arn:${endpoint.partition}:ecr:${endpoint.region}:${endpoint.account}:repository/${check.repository}`;
      let found = world.repositories.get(arn) ?? this.created.get(arn);
      if (!found && check === checks[0] && check.actions.some((a) => WRITE_ACTIONS.has(a))) {
        const outcome = this.createOnPush(world, grant, endpoint, check.repository, arn);
        if ('refused' in outcome) return refuse(...outcome.refused);
        found = outcome.created;
      }
      if (!found)
        return refuse(404, 'NAME_UNKNOWN', `The repository with name '${check.repository}' does not exist in the registry with id '${endpoint.account}'`);
      if (check === checks[0]) repository = found;
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
    const tag = req.method === 'PUT' ? /\/manifests\/([^/]+)$/.exec(url.pathname)?.[1] : undefined;
    if (repository && tag && !tag.startsWith('sha256:') && !tagIsMutable(repository, tag)) {
      this.putImmutable(req, res, backend, record, repository, tag).catch((err) => refuse(500, 'UNKNOWN', (err as Error).message));
      return;
    }
    this.forward(req, res, backend, record);
  }

  /**
   * ECR's create on push: the template that covers the name, the pushing role's permission to
   * create (and tag), and the template's custom role when it needs one.
   */
  private createOnPush(
    world: IamWorld,
    grant: RegistryGrant,
    endpoint: AwsHost,
    name: string,
    arn: string,
  ): { created: CreatedRepository } | { refused: [number, string, string] } {
    // A registry host always names its account.
    const account = endpoint.account as string;
    const unknown: [number, string, string] = [404, 'NAME_UNKNOWN', `The repository with name '${name}' does not exist in the registry with id '${account}'`];
    const template = world.createOnPushTemplate(account, endpoint.region, name);
    if (!template) return { refused: unknown };
    const role = grant.session.role;
    const context = { 'aws:RequestedRegion': [endpoint.region] };
    const tagged = Object.keys(template.resourceTags).length > 0;
    const actions = ['ecr:CreateRepository', ...(tagged ? ['ecr:TagResource'] : [])];
    for (const action of actions) {
      const decision =
        role.account === account
          ? evaluateIdentity(role, action, arn, context)
          : { allowed: false, reason: `User: ${role.arn} is not authorized to perform: ${action} on resource: ${arn} (another account's registry)` };
      if (!decision.allowed) return { refused: [403, 'DENIED', decision.reason] };
    }
    const creatorProblem = this.creatorProblem(world, template, arn, tagged);
    if (creatorProblem) return { refused: [403, 'DENIED', `create on push under ${template.prefix}: ${creatorProblem}`] };
    const created: CreatedRepository = {
      arn,
      name,
      account,
      region: endpoint.region,
      tagMutability: template.tagMutability,
      exclusions: template.exclusions,
      template,
      createdBy: role.arn,
    };
    this.created.set(arn, created);
    this.calls.push({ api: 'ecr:CreateRepository (create on push)', host: '', region: endpoint.region, roleArn: role.arn, repository: name, ok: true });
    return { created };
  }

  /** ECR needs the template's custom role for tags or a KMS key (ECR User Guide), and acts as it. */
  private creatorProblem(world: IamWorld, template: CreationTemplate, arn: string, tagged: boolean): string | undefined {
    const kms = template.encryption.type !== 'AES256';
    if (!template.customRoleArn) return tagged || kms ? 'the template has resource tags or a KMS key but no customRoleArn' : undefined;
    const creator = world.roles.get(template.customRoleArn);
    if (!creator) return `its customRoleArn ${template.customRoleArn} does not exist`;
    const trust = evaluateServiceTrust(creator, 'ecr.amazonaws.com', { 'aws:SourceAccount': [template.account] });
    if (!trust.allowed) return trust.reason;
    const needed: [string, string][] = [['ecr:CreateRepository', arn], ...(tagged ? [['ecr:TagResource', arn] as [string, string]] : [])];
    if (kms && template.encryption.kmsKey) needed.push(['kms:CreateGrant', template.encryption.kmsKey], ['kms:DescribeKey', template.encryption.kmsKey]);
    for (const [action, resource] of needed) {
      const decision = evaluateIdentity(creator, action, resource, {});
      if (!decision.allowed) return decision.reason;
    }
    return undefined;
  }

  /** A manifest PUT under an immutable tag: refused if the tag already names another digest. */
  private async putImmutable(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    backend: string,
    record: Record<string, unknown>,
    repository: Repository,
    tag: string,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const existing = await headDigest(backend, repository.name, tag);
    if (existing && existing !== digest) {
      const message = `The image tag '${tag}' already exists in the '${repository.name}' repository and cannot be overwritten because the tag is immutable.`;
      this.calls.push({ ...record, ok: false, error: `400 TAG_INVALID: ${message}` } as EcrCall);
      registryError(res, 400, 'TAG_INVALID', message);
      return;
    }
    this.forward(req, res, backend, record, body);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, backend: string, record: Record<string, unknown>, body?: Buffer): void {
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
    if (body) upstream.end(body);
    else req.pipe(upstream);
  }
}

/** The digest a tag names in the real registry, or undefined when it names none. */
function headDigest(backend: string, repository: string, tag: string): Promise<string | undefined> {
  const [hostname, port] = backend.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname,
        port: Number(port),
        method: 'HEAD',
        path: `/v2/${repository}/manifests/${tag}`,
        headers: { accept: MANIFEST_TYPES.join(', ') },
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200 ? String(res.headers['docker-content-digest'] ?? '') || undefined : undefined);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`HEAD ${repository}:${tag} timed out`)));
    req.end();
  });
}
