/**
 * A STAND-IN for two AWS APIs, not AWS: a local HTTP server answering only
 *  - ECR GetAuthorizationToken (JSON 1.1, X-Amz-Target AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken)
 *  - STS AssumeRoleWithWebIdentity (query protocol, XML answer)
 * reached through AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_STS. It hands out the password
 * the real test registry's htpasswd knows for user AWS, and records what it was asked so
 * tests can check region, role and which credentials signed the ECR call.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface StandInCall {
  readonly api: 'ecr:GetAuthorizationToken' | 'sts:AssumeRoleWithWebIdentity';
  /** Region from the SigV4 credential scope (ECR) — the SDK signs for the region it calls. */
  readonly region?: string;
  /** Access key id that signed the call (ECR). */
  readonly accessKeyId?: string;
  readonly roleArn?: string;
  readonly webIdentityToken?: string;
}

export interface AwsApiStandIn {
  readonly url: string;
  readonly calls: StandInCall[];
  /** Passwords handed out by successive GetAuthorizationToken calls; the last one repeats. */
  passwords: string[];
  /** Access key id STS returns for an assumed role. */
  readonly assumedAccessKeyId: string;
  stop(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => resolve(body));
  });
}

function signer(req: http.IncomingMessage): { accessKeyId?: string; region?: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '');
  return m ? { accessKeyId: m[1], region: m[2] } : {};
}

export async function startAwsApiStandIn(passwords: string[]): Promise<AwsApiStandIn> {
  const calls: StandInCall[] = [];
  const assumedAccessKeyId = 'ASIASTANDINASSUMED01';
  const state = { passwords, served: 0 };
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken') {
      calls.push({ api: 'ecr:GetAuthorizationToken', ...signer(req) });
      const password = state.passwords[Math.min(state.served++, state.passwords.length - 1)];
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'), expiresAt: Date.now() / 1000 + 43200, proxyEndpoint: 'https://stand-in' }] }));
      return;
    }
    const form = new URLSearchParams(body);
    if (form.get('Action') === 'AssumeRoleWithWebIdentity') {
      calls.push({ api: 'sts:AssumeRoleWithWebIdentity', roleArn: form.get('RoleArn') ?? undefined, webIdentityToken: form.get('WebIdentityToken') ?? undefined });
      const expiration = new Date(Date.now() + 3600_000).toISOString();
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>${assumedAccessKeyId}</AccessKeyId>
      <SecretAccessKey>stand-in-secret</SecretAccessKey>
      <SessionToken>stand-in-session</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:ferry:push</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>${form.get('RoleArn')}/session</Arn><AssumedRoleId>AROASTANDIN:session</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`);
      return;
    }
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: 'UnknownOperationException', message: `stand-in does not implement ${target || form.get('Action')}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    get passwords() { return state.passwords; },
    set passwords(p: string[]) { state.passwords = p; state.served = 0; },
    assumedAccessKeyId,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
