/**
 * A STAND-IN for three AWS APIs, not AWS: a local server answering only
 *  - ECR GetAuthorizationToken (JSON 1.1, X-Amz-Target AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken)
 *  - STS AssumeRoleWithWebIdentity (query protocol, XML answer)
 *  - STS GetWebIdentityToken (query protocol, XML answer; outbound identity federation)
 *
 * Reached either through AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_STS (plain HTTP), or, with
 * `hosts`, over HTTPS under real AWS host names: its certificate names exactly those hosts,
 * so a client that calls any other name fails its TLS check (see aws-hosts-hook.cjs, which
 * sends AWS names here). It enforces what AWS enforces, as far as a test needs:
 *  - SigV4: the signature verifies with the key's secret (and session token); the scope
 *    names the service called and, under an AWS host name, that host's region; the key is
 *    one it issued or a configured default key;
 *  - credentials work only in their own partition;
 *  - AssumeRoleWithWebIdentity: the role must exist, the token must satisfy the role's
 *    trust (a projected token it was given, or a token it minted itself with the issuer,
 *    sub and aud the trust names, unexpired, from another partition);
 *  - GetWebIdentityToken: only a role session may call it, federation must be enabled,
 *    one audience, DurationSeconds 60..3600, a known signing algorithm.
 * Hands out the password the real test registry's htpasswd knows for user AWS.
 */
import { createHash, createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { partitionOfRegion } from '../../lib/config/partitions';
import { selfSignedCa } from '../support/certificates';

export type StandInApi = 'ecr:GetAuthorizationToken' | 'sts:AssumeRoleWithWebIdentity' | 'sts:GetWebIdentityToken';

export interface StandInCall {
  readonly api: StandInApi;
  /** Region from the SigV4 credential scope — the SDK signs for the region it calls. */
  readonly region?: string;
  /** Access key id that signed the call. */
  readonly accessKeyId?: string;
  readonly roleArn?: string;
  readonly webIdentityToken?: string;
  /** The Host the call was made to (only recorded in `hosts` mode). */
  readonly host?: string;
  /** The AWS error code answered, if the call was refused. */
  readonly refused?: string;
}

/** How a role may be assumed with a web identity. */
export type RoleTrust = { readonly token: string } | { readonly issuer: string; readonly sub: string; readonly aud: string };

export interface StandInOptions {
  /** Serve HTTPS for exactly these AWS host names (and refuse any other Host). */
  readonly hosts?: readonly string[];
  /** Roles and their trust; without it any role is accepted with any token (legacy mode). */
  readonly roles?: Readonly<Record<string, RoleTrust>>;
  /** Long-term access keys the default chain may sign with (env credentials). */
  readonly defaultKeys?: readonly string[];
  /** Outbound identity federation of the build account. */
  readonly federation?: { readonly issuer: string; readonly enabled: boolean };
  /** Lifetime of assumed-role sessions (default 3600). */
  readonly sessionSeconds?: number;
}

export interface AwsApiStandIn {
  readonly url: string;
  readonly calls: StandInCall[];
  /** Passwords handed out by successive GetAuthorizationToken calls; the last one repeats. */
  passwords: string[];
  /** Access key id of the first assumed-role session. */
  readonly assumedAccessKeyId: string;
  /** Port of the HTTPS listener in `hosts` mode. */
  readonly port: number;
  /** PEM file of the certificate in `hosts` mode (for NODE_EXTRA_CA_CERTS). */
  readonly caFile?: string;
  /** Hosts named in requests that were refused because they are not in `hosts`. */
  readonly unexpectedHosts: string[];
  /** Every web identity token GetWebIdentityToken handed out (to check none is printed). */
  readonly mintedTokens: string[];
  /** The User-Agent header of every request, in order. */
  readonly userAgents: string[];
  stop(): Promise<void>;
}

const AWS_HOST = /^(?:[a-z0-9-]+\.)*?(sts|sts-fips|api\.ecr|api\.ecr-fips|ecr|ecr-fips)\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu)$/;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => resolve(body));
  });
}

function signer(req: http.IncomingMessage): { accessKeyId?: string; region?: string; service?: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\//.exec(req.headers.authorization ?? '');
  return m ? { accessKeyId: m[1], region: m[2], service: m[3] } : {};
}

const SECRET = 'stand-in-secret';
const SESSION_TOKEN = 'stand-in-session';

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Recomputes the SigV4 signature (AWS's "Create a signed AWS API request" steps) over what
 * arrived. Written out here: the SDK's own signer is not a direct dependency, and the
 * checker must not share code with the client it checks.
 */
function signatureValid(req: http.IncomingMessage, body: string, secret: string): boolean {
  const m = /^AWS4-HMAC-SHA256 Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    req.headers.authorization ?? '',
  );
  const amzDate = req.headers['x-amz-date'];
  if (!m || typeof amzDate !== 'string') return false;
  const [, date, region, service, signedHeaders, signature] = m;
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const query = [...url.searchParams]
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, url.pathname, query, headers, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex') === signature;
}

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decode(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A self-signed CA certificate for exactly these DNS names. */
function certificate(dir: string, hosts: readonly string[]): { cert: string; key: string } {
  const cert = path.join(dir, 'aws-cert.pem');
  const key = path.join(dir, 'aws-key.pem');
  selfSignedCa({ keyFile: key, certFile: cert, subject: '/CN=ferry test AWS stand-in', altNames: hosts.map((h) => `DNS:${h}`) });
  return { cert, key };
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startAwsApiStandIn(passwords: string[], options: StandInOptions = {}): Promise<AwsApiStandIn> {
  const calls: StandInCall[] = [];
  const unexpectedHosts: string[] = [];
  const state = { passwords, served: 0 };
  /** access key → the role ARN of its session (undefined for default keys). */
  const sessions = new Map<string, string | undefined>((options.defaultKeys ?? ['AKIASTANDINDEFAULT01']).map((k) => [k, undefined]));
  const minted = new Map<string, { partition: string }>();
  let sessionCount = 0;
  const keyFor = (n: number) => `ASIASTANDINASSUMED${String(n).padStart(2, '0')}`;

  /** The region a host name carries, or undefined for 127.0.0.1 (AWS_ENDPOINT_URL_* mode). */
  function hostRegion(host: string): { region: string; service: string } | undefined {
    const m = AWS_HOST.exec(host.replace(/:\d+$/, ''));
    return m ? { region: m[2], service: m[1].startsWith('sts') ? 'sts' : 'ecr' } : undefined;
  }

  /** SigV4 as far as the stand-in can check it: known key, right service, right region, right partition. */
  function checkSigned(req: http.IncomingMessage, body: string, service: string): { accessKeyId: string; region: string; roleArn?: string } {
    const s = signer(req);
    if (!s.accessKeyId || !s.region) throw new Refusal(400, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    if (!signatureValid(req, body, SECRET))
      throw new Refusal(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    if (s.accessKeyId.startsWith('ASIA') && req.headers['x-amz-security-token'] !== SESSION_TOKEN) {
      throw new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (s.service !== service) throw new Refusal(400, 'InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
    const named = hostRegion(String(req.headers.host ?? ''));
    if (named && named.region !== s.region)
      throw new Refusal(400, 'InvalidSignatureException', `Credential should be scoped to a valid region, not '${s.region}'.`);
    if (!sessions.has(s.accessKeyId)) throw new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    const roleArn = sessions.get(s.accessKeyId);
    const keyPartition = roleArn ? roleArn.split(':')[1] : undefined;
    if (keyPartition && keyPartition !== partitionOfRegion(s.region)?.id) {
      throw new Refusal(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    return { accessKeyId: s.accessKeyId, region: s.region, roleArn };
  }

  function assume(req: http.IncomingMessage, form: URLSearchParams): string {
    const roleArn = form.get('RoleArn') ?? '';
    const token = form.get('WebIdentityToken') ?? '';
    const named = hostRegion(String(req.headers.host ?? ''));
    if (named && roleArn.split(':')[1] !== partitionOfRegion(named.region)?.id) {
      throw new Refusal(400, 'ValidationError', `Partition of ${roleArn} does not match the endpoint's region ${named.region}`);
    }
    if (options.roles) {
      const trust = options.roles[roleArn];
      if (!trust) throw new Refusal(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      if ('token' in trust) {
        if (token !== trust.token) throw new Refusal(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      } else {
        const mint = minted.get(token);
        const claims = decode(token);
        if (!mint || !claims) throw new Refusal(400, 'InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider");
        if (claims.iss !== trust.issuer)
          throw new Refusal(400, 'InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${String(claims.iss)}`);
        if (claims.aud !== trust.aud) throw new Refusal(400, 'InvalidIdentityToken', 'Incorrect token audience');
        if (Number(claims.exp) * 1000 < Date.now()) throw new Refusal(400, 'ExpiredTokenException', 'Token expired');
        if (named && mint.partition === partitionOfRegion(named.region)?.id)
          throw new Refusal(400, 'InvalidIdentityToken', 'Outbound web identity tokens are not accepted in their own partition');
        if (claims.sub !== trust.sub) throw new Refusal(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      }
    }
    const accessKeyId = keyFor(++sessionCount);
    sessions.set(accessKeyId, roleArn);
    const expiration = new Date(Date.now() + (options.sessionSeconds ?? 3600) * 1000).toISOString();
    return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${SECRET}</SecretAccessKey>
      <SessionToken>${SESSION_TOKEN}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:ferry:push</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>${roleArn}/session</Arn><AssumedRoleId>AROASTANDIN:session</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`;
  }

  function mintToken(signed: { region: string; roleArn?: string }, form: URLSearchParams): string {
    if (!signed.roleArn) throw new Refusal(403, 'AccessDenied', 'Only role sessions may call sts:GetWebIdentityToken');
    if (!options.federation?.enabled)
      throw new Refusal(403, 'OutboundWebIdentityFederationDisabled', 'Outbound web identity federation is not enabled for this account');
    const audiences = [...form.keys()].filter((k) => /^Audience\.member\.\d+$/.test(k)).map((k) => form.get(k)!);
    if (audiences.length !== 1) throw new Refusal(400, 'ValidationError', 'Exactly one Audience is required');
    const duration = Number(form.get('DurationSeconds') ?? 300);
    if (!Number.isInteger(duration) || duration < 60 || duration > 3600)
      throw new Refusal(400, 'ValidationError', 'DurationSeconds must be between 60 and 3600');
    if (!['RS256', 'ES384'].includes(form.get('SigningAlgorithm') ?? '')) throw new Refusal(400, 'ValidationError', 'SigningAlgorithm must be RS256 or ES384');
    const exp = Math.floor(Date.now() / 1000) + duration;
    const token = `${b64url({ alg: 'RS256', kid: 'stand-in' })}.${b64url({ iss: options.federation.issuer, sub: signed.roleArn, aud: audiences[0], exp, jti: String(minted.size) })}.c3RhbmQtaW4`;
    minted.set(token, { partition: partitionOfRegion(signed.region)!.id });
    return `<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetWebIdentityTokenResult>
    <WebIdentityToken>${token}</WebIdentityToken>
    <Expiration>${new Date(exp * 1000).toISOString()}</Expiration>
  </GetWebIdentityTokenResult>
  <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>
</GetWebIdentityTokenResponse>`;
  }

  const userAgents: string[] = [];
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    userAgents.push(String(req.headers['user-agent'] ?? ''));
    const body = await readBody(req);
    const host = options.hosts ? String(req.headers.host ?? '').replace(/:\d+$/, '') : undefined;
    if (host !== undefined && !options.hosts!.includes(host)) {
      unexpectedHosts.push(host);
      res.writeHead(421).end();
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const form = new URLSearchParams(body);
    const action = form.get('Action');
    const api: StandInApi | undefined =
      target === 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken'
        ? 'ecr:GetAuthorizationToken'
        : action === 'AssumeRoleWithWebIdentity'
          ? 'sts:AssumeRoleWithWebIdentity'
          : action === 'GetWebIdentityToken'
            ? 'sts:GetWebIdentityToken'
            : undefined;
    const call: { -readonly [K in keyof StandInCall]: StandInCall[K] } = { api: api! };
    if (host !== undefined) call.host = host;
    try {
      if (api === 'ecr:GetAuthorizationToken') {
        const signed = checkSigned(req, body, 'ecr');
        Object.assign(call, { region: signed.region, accessKeyId: signed.accessKeyId });
        const password = state.passwords[Math.min(state.served++, state.passwords.length - 1)];
        calls.push(call);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({
            authorizationData: [
              {
                authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
                expiresAt: Date.now() / 1000 + 43200,
                proxyEndpoint: 'https://stand-in',
              },
            ],
          }),
        );
        return;
      }
      if (api === 'sts:AssumeRoleWithWebIdentity') {
        // Unsigned, as on AWS: the token is the credential.
        Object.assign(call, { roleArn: form.get('RoleArn') ?? undefined, webIdentityToken: form.get('WebIdentityToken') ?? undefined });
        const xml = assume(req, form);
        calls.push(call);
        res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
        return;
      }
      if (api === 'sts:GetWebIdentityToken') {
        const signed = checkSigned(req, body, 'sts');
        Object.assign(call, { region: signed.region, accessKeyId: signed.accessKeyId, roleArn: signed.roleArn });
        const xml = mintToken(signed, form);
        calls.push(call);
        res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
        return;
      }
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'UnknownOperationException', message: `stand-in does not implement ${target || action}` }));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      call.refused = err.code;
      calls.push(call);
      if (api === 'ecr:GetAuthorizationToken') {
        res.writeHead(err.status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: err.code, message: err.message }));
      } else {
        res
          .writeHead(err.status, { 'content-type': 'text/xml' })
          .end(
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${err.code}</Code><Message>${err.message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`,
          );
      }
    }
  };

  let dir: string | undefined;
  let server: http.Server;
  let caFile: string | undefined;
  if (options.hosts) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-aws-stand-in-'));
    const { cert, key } = certificate(dir, options.hosts);
    caFile = cert;
    server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler);
  } else {
    server = http.createServer(handler);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.hosts ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    caFile,
    calls,
    unexpectedHosts,
    userAgents,
    get mintedTokens() {
      return [...minted.keys()];
    },
    get passwords() {
      return state.passwords;
    },
    set passwords(p: string[]) {
      state.passwords = p;
      state.served = 0;
    },
    assumedAccessKeyId: keyFor(1),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          if (dir) fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
