/**
 * The stand-ins' own rules, each broken once, through the real AWS SDK clients: a stand-in that
 * accepted everything would let the proof pass for nothing. The IAM here is a small template
 * written for these checks (the proof itself reads only what synth wrote).
 */
import * as https from 'node:https';
import * as path from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { AssumeRoleWithWebIdentityCommand, GetWebIdentityTokenCommand, STSClient } from '@aws-sdk/client-sts';
import * as jose from 'jose';
import { startRegistry, type TestRegistry } from '../push/registry-server';
import { tempDir } from '../support/config-fixture';
import { AwsFront } from './aws-front';
import { IamWorld, type StackTemplate } from './iam-world';
import { TestIssuer } from './issuers';

const CLUSTER = 'https://oidc.eks.us-east-1.amazonaws.com/id/STANDINCHECKS';
const OUTBOUND = 'https://11111111-2222-4333-8444-555555555555.tokens.sts.global.api.aws';
const BUILD = '111111111111';
const GOV = '222222222222';
const SUB = 'system:serviceaccount:ci:pusher';
const MINTER = `arn:aws:iam::${BUILD}:role/ci/minter`;
const GOV_ROLE = `arn:aws-us-gov:iam::${GOV}:role/pusher`;

function trust(providerHost: string, sub: string): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: {
          Federated: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::`, { Ref: 'AWS::AccountId' }, `:oidc-provider/${providerHost}`]] },
        },
        Condition: { StringEquals: { [`${providerHost}:sub`]: sub, [`${providerHost}:aud`]: 'sts.amazonaws.com' } },
      },
    ],
  };
}

const host = (url: string): string => url.replace(/^https:\/\//, '');

const STACKS: StackTemplate[] = [
  {
    stackName: 'build',
    account: BUILD,
    region: 'us-east-1',
    template: {
      Resources: {
        Cluster: { Type: 'AWS::IAM::OIDCProvider', Properties: { Url: CLUSTER, ClientIdList: ['sts.amazonaws.com'] } },
        Minter: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'minter', Path: '/ci/', AssumeRolePolicyDocument: trust(host(CLUSTER), SUB) } },
        Repo: { Type: 'AWS::ECR::Repository', Properties: { RepositoryName: 'team/app' } },
        Reader: {
          Type: 'AWS::IAM::Role',
          Properties: { RoleName: 'reader', AssumeRolePolicyDocument: trust(host(CLUSTER), 'system:serviceaccount:ci:reader') },
        },
        ReaderPolicy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'r',
            Roles: [{ Ref: 'Reader' }],
            PolicyDocument: {
              Statement: [
                { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
                {
                  Effect: 'Allow',
                  Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
                  Resource: { 'Fn::GetAtt': ['Repo', 'Arn'] },
                },
              ],
            },
          },
        },
        MinterPolicy: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            ManagedPolicyName: 'minter',
            Roles: [{ Ref: 'Minter' }],
            PolicyDocument: {
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'sts:GetWebIdentityToken',
                  Resource: '*',
                  Condition: {
                    Null: { 'sts:IdentityTokenAudience': 'false' },
                    'ForAllValues:StringEquals': { 'sts:IdentityTokenAudience': ['sts.amazonaws.com'] },
                    StringEquals: { 'sts:SigningAlgorithm': 'RS256' },
                    NumericLessThanEquals: { 'sts:DurationSeconds': 300 },
                  },
                },
              ],
            },
          },
        },
      },
    },
  },
  {
    stackName: 'gov',
    account: GOV,
    region: 'us-gov-west-1',
    template: {
      Resources: {
        Outbound: { Type: 'AWS::IAM::OIDCProvider', Properties: { Url: OUTBOUND, ClientIdList: ['sts.amazonaws.com'] } },
        Pusher: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'pusher', AssumeRolePolicyDocument: trust(host(OUTBOUND), MINTER) } },
        Policy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'p',
            Roles: [{ Ref: 'Pusher' }],
            PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] },
          },
        },
      },
    },
  },
];

const READER = `arn:aws:iam::${BUILD}:role/reader`;
const REGISTRY = `${BUILD}.dkr.ecr.us-east-1.amazonaws.com`;
const WEST_REGISTRY = `${BUILD}.dkr.ecr.us-west-2.amazonaws.com`;

let front: AwsFront;
let registry: TestRegistry;
let cluster: TestIssuer;
let outbound: TestIssuer;

beforeAll(async () => {
  cluster = await TestIssuer.create(CLUSTER);
  outbound = await TestIssuer.create(OUTBOUND, ['RS256', 'ES384']);
  registry = await startRegistry();
  front = await AwsFront.start({
    dir: path.join(tempDir('ferry-stand-ins-'), 'front'),
    regions: ['us-east-1', 'us-west-2', 'us-gov-west-1', 'us-gov-east-1'],
    issuers: [cluster, outbound],
    outboundIssuers: [outbound],
    backends: new Map([
      [REGISTRY, registry.host],
      [WEST_REGISTRY, registry.host],
    ]),
    world: new IamWorld(STACKS, { outboundIssuers: { [BUILD]: OUTBOUND } }),
  });
}, 60_000);

afterAll(async () => {
  await front?.stop();
  await registry?.stop();
});

/** SDK config reaching `service.region.amazonaws.com` at the front, TLS verified with the test CA. */
function through(
  service: string,
  region: string,
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  signingRegion = region,
) {
  const port = front.address.split(':')[1];
  const httpsAgent = new https.Agent({ ca: front.certs.ca, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) as never });
  return {
    region: signingRegion,
    endpoint: `https://${service}.${region}.amazonaws.com:${port}`,
    maxAttempts: 1,
    credentials: credentials ?? { accessKeyId: 'none', secretAccessKey: 'none' },
    requestHandler: { httpsAgent },
  };
}

async function clusterToken(sub = SUB, lifetime = 600, issuer = cluster): Promise<string> {
  return (await issuer.sign({ sub, aud: ['sts.amazonaws.com'] }, lifetime)).token;
}

async function assume(region: string, roleArn: string, token: string) {
  const sts = new STSClient(through('sts', region));
  try {
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'checks', WebIdentityToken: token }));
    return { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
  } finally {
    sts.destroy();
  }
}

async function mint(
  credentials: Awaited<ReturnType<typeof assume>>,
  input: { Audience?: string[]; SigningAlgorithm?: string; DurationSeconds?: number } = {},
  region = 'us-east-1',
  signingRegion = region,
) {
  const sts = new STSClient(through('sts', region, credentials, signingRegion));
  try {
    return (await sts.send(new GetWebIdentityTokenCommand({ Audience: ['sts.amazonaws.com'], SigningAlgorithm: 'RS256', DurationSeconds: 300, ...input })))
      .WebIdentityToken!;
  } finally {
    sts.destroy();
  }
}

async function ecrLogin(credentials: Awaited<ReturnType<typeof assume>>, region: string, signingRegion = region): Promise<string> {
  const ecr = new ECRClient(through('api.ecr', region, credentials, signingRegion));
  try {
    return (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0].authorizationToken!;
  } finally {
    ecr.destroy();
  }
}

describe('AssumeRoleWithWebIdentity', () => {
  test('a cluster token the trust policy names is exchanged', async () => {
    await expect(assume('us-east-1', MINTER, await clusterToken())).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
  });
  test('another subject is refused by the trust policy', async () => {
    await expect(assume('us-east-1', MINTER, await clusterToken('system:serviceaccount:ci:other'))).rejects.toThrow(/Not authorized.*:sub/);
  });
  test('an expired token is refused', async () => {
    await expect(assume('us-east-1', MINTER, await clusterToken(SUB, -60))).rejects.toThrow(/InvalidIdentityToken|could not be verified.*exp/);
  });
  test('a token signed by a key the issuer does not publish is refused', async () => {
    const impostor = await TestIssuer.create(CLUSTER);
    await expect(assume('us-east-1', MINTER, await clusterToken(SUB, 600, impostor))).rejects.toThrow(/could not be verified/);
  });
  test('a role of another partition than the endpoint is refused', async () => {
    await expect(assume('us-gov-west-1', MINTER, await clusterToken())).rejects.toThrow(/partition aws, but this STS endpoint is us-gov-west-1/);
  });
});

describe('SigV4 and ECR GetAuthorizationToken', () => {
  test('credentials signed with another secret are refused', async () => {
    const creds = await assume('us-east-1', MINTER, await clusterToken());
    await expect(mint({ ...creds, secretAccessKey: `${creds.secretAccessKey}x` })).rejects.toThrow(/signature we calculated does not match/);
  });
  test('a signature scoped to another region than the endpoint is refused', async () => {
    const creds = await assume('us-east-1', MINTER, await clusterToken());
    await expect(mint(creds, {}, 'us-east-1', 'us-west-2')).rejects.toThrow(/scoped to a valid region/);
  });
  test('the login needs ecr:GetAuthorizationToken in the role policy', async () => {
    const creds = await assume('us-east-1', MINTER, await clusterToken());
    await expect(ecrLogin(creds, 'us-east-1')).rejects.toThrow(/not authorized to perform: ecr:GetAuthorizationToken/);
  });
});

describe('GetWebIdentityToken and the outbound path', () => {
  test('mints a verifiable token with the claims AWS documents, exchanged in another partition', async () => {
    const creds = await assume('us-east-1', MINTER, await clusterToken());
    const token = await mint(creds);
    const claims = jose.decodeJwt(token);
    expect(claims).toMatchObject({
      iss: OUTBOUND,
      sub: MINTER,
      aud: 'sts.amazonaws.com',
      'https://sts.amazonaws.com/': { aws_account: BUILD, source_region: 'us-east-1' },
    });
    expect(claims.exp! - claims.iat!).toBe(300);
    const gov = await assume('us-gov-west-1', GOV_ROLE, token);
    await expect(ecrLogin(gov, 'us-gov-west-1')).resolves.toMatch(/./);
    // The destination role's credentials are of its partition only.
    await expect(ecrLogin(gov, 'us-east-1')).rejects.toThrow(/security token included in the request is invalid/);
  });
  test.each([
    ['another audience', { Audience: ['sts.amazonaws.com.cn'] }, /ForAllValues:StringEquals sts:IdentityTokenAudience/],
    ['another algorithm', { SigningAlgorithm: 'ES384' }, /sts:SigningAlgorithm/],
    ['a longer duration', { DurationSeconds: 900 }, /NumericLessThanEquals sts:DurationSeconds/],
  ])('the policy conditions refuse %s', async (_name, input, error) => {
    const creds = await assume('us-east-1', MINTER, await clusterToken());
    await expect(mint(creds, input)).rejects.toThrow(error);
  });
  test('a role without the permission cannot mint', async () => {
    const gov = await assume('us-gov-west-1', GOV_ROLE, await mint(await assume('us-east-1', MINTER, await clusterToken())));
    await expect(mint(gov, {}, 'us-gov-west-1')).rejects.toThrow(/not authorized to perform: sts:GetWebIdentityToken/);
  });
  test('an outbound token is refused in its own partition', async () => {
    const token = await mint(await assume('us-east-1', MINTER, await clusterToken()));
    await expect(assume('us-east-1', MINTER, token)).rejects.toThrow(/No OpenIDConnect provider|own partition/);
  });
});

describe('the registry endpoint', () => {
  /** One request to a registry host at the front, TLS verified with the test CA. */
  function registryRequest(registryHost: string, method: string, urlPath: string, authorization?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: Number(front.address.split(':')[1]),
          servername: registryHost,
          method,
          path: urlPath,
          ca: front.certs.ca,
          agent: false,
          headers: { host: registryHost, ...(authorization ? { authorization } : {}) },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  async function readerLogin(region = 'us-east-1'): Promise<string> {
    const creds = await assume('us-east-1', READER, await clusterToken('system:serviceaccount:ci:reader'));
    return `Basic ${await ecrLogin(creds, region)}`;
  }

  test('without the password ECR issued, it asks for Basic credentials', async () => {
    const res = await registryRequest(REGISTRY, 'GET', '/v2/');
    expect(res.status).toBe(401);
  });
  test('a pull the role policy allows is forwarded to the real registry', async () => {
    const res = await registryRequest(REGISTRY, 'GET', '/v2/team/app/tags/list', await readerLogin());
    // ecr:ListImages is not in the reader's policy: refused before the registry sees it.
    expect(res.status).toBe(403);
    const pull = await registryRequest(REGISTRY, 'HEAD', '/v2/team/app/manifests/latest', await readerLogin());
    expect(pull.status).toBe(404); // the real registry's answer: allowed, and nothing there yet
  });
  test('a push the role policy does not allow is refused', async () => {
    const res = await registryRequest(REGISTRY, 'POST', '/v2/team/app/blobs/uploads/', await readerLogin());
    expect(res).toMatchObject({
      status: 403,
      body: expect.stringMatching(/not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-east-1:111111111111:repository\/team\/app/),
    });
  });
  test('a repository the templates do not create is unknown', async () => {
    const res = await registryRequest(REGISTRY, 'HEAD', '/v2/team/other/manifests/latest', await readerLogin());
    expect(res.status).toBe(404);
  });
  test('a password issued in one region does not open a registry of another', async () => {
    const res = await registryRequest(WEST_REGISTRY, 'HEAD', '/v2/team/app/manifests/latest', await readerLogin('us-east-1'));
    expect(res.status).toBe(401);
  });
});
