/** The credential rules that need no server: refresh before expiry, trust flags, FIPS endpoint choice. */
import { REFRESH_MARGIN_MS, refreshing } from '../../lib/registry/authn/aws-credentials';
import { ecrConfig, hasFipsEndpoint, stsConfig } from '../../lib/registry/authn/endpoints';
import { tokenClaims } from '../../lib/registry/authn/federation';
import { checkFederatedRole, DEFAULT_TRUST, parseTrust } from '../../lib/registry/authn/flags';
import { version } from '../../package.json';

/** What the SDK appends to its User-Agent as ferry/<version>. */
const UA = [['ferry', version]];

describe('refreshing credentials', () => {
  test('are reused until REFRESH_MARGIN_MS before they expire, then fetched again; a failure is not cached', async () => {
    let now = 1_000_000;
    let calls = 0;
    let fail = false;
    const provider = refreshing(
      async () => {
        calls++;
        if (fail) throw new Error('STS down');
        return { accessKeyId: `K${calls}`, secretAccessKey: 's', expiration: new Date(now + 3600_000) };
      },
      () => now,
    );
    expect((await provider()).accessKeyId).toBe('K1');
    now += 3600_000 - REFRESH_MARGIN_MS - 1;
    expect((await provider()).accessKeyId).toBe('K1');
    now += 2;
    fail = true;
    await expect(provider()).rejects.toThrow('STS down');
    fail = false;
    expect((await provider()).accessKeyId).toBe('K3');
    expect(calls).toBe(3);
  });
});

describe('trust flags', () => {
  test('defaults: cluster-oidc, sts.amazonaws.com, 300 s, token region from AWS_REGION', () => {
    expect(parseTrust({}, { AWS_REGION: 'us-east-1' })).toEqual({ ...DEFAULT_TRUST, region: 'us-east-1' });
  });

  test('flags win over the environment, which wins over defaults', () => {
    const env = {
      FERRY_TRUST: 'outbound-federation',
      FERRY_TOKEN_AUDIENCE: 'env-aud',
      FERRY_TOKEN_REGION: 'us-west-2',
      FERRY_TOKEN_DURATION: '900',
      FERRY_TOKEN_FIPS: 'true',
      AWS_REGION: 'eu-west-1',
    };
    expect(parseTrust({}, env)).toEqual({ mode: 'outbound-federation', audience: 'env-aud', region: 'us-west-2', durationSeconds: 900, fips: true });
    expect(
      parseTrust({ trust: 'cluster-oidc', 'token-audience': 'a', 'token-region': 'us-gov-west-1', 'token-duration': '60', 'token-fips': false }, env),
    ).toEqual({ mode: 'cluster-oidc', audience: 'a', region: 'us-gov-west-1', durationSeconds: 60, fips: false });
  });

  test.each([
    [{ trust: 'irsa' }, {}, '--trust "irsa" is not one of cluster-oidc, outbound-federation'],
    [{}, { FERRY_TRUST: 'x' }, 'FERRY_TRUST "x" is not one of'],
    [{ 'token-duration': '59' }, {}, '--token-duration must be a whole number of seconds from 60 to 3600, got "59"'],
    [{}, { FERRY_TOKEN_DURATION: '3601' }, 'FERRY_TOKEN_DURATION must be a whole number of seconds from 60 to 3600'],
    [{ 'token-region': 'mars-1' }, {}, '--token-region "mars-1" is not a region of any AWS partition'],
    [{}, { FERRY_TOKEN_FIPS: 'maybe' }, 'FERRY_TOKEN_FIPS="maybe" is not true or false'],
    [{ 'token-fips': true, 'token-region': 'eu-west-1' }, {}, '--token-fips: AWS runs no FIPS STS endpoint in eu-west-1'],
    [{ 'token-region': 'cn-north-1' }, { FERRY_TOKEN_FIPS: 'true' }, 'FERRY_TOKEN_FIPS: AWS runs no FIPS STS endpoint in cn-north-1'],
  ])('%j %j is refused: %s', (values, env, message) => {
    expect(() => parseTrust(values, env)).toThrow(message);
  });

  test('outbound federation needs a token region in another partition than the role', () => {
    const trust = parseTrust({ trust: 'outbound-federation' }, {});
    expect(() => checkFederatedRole(trust, 'arn:aws-cn:iam::1:role/r', 'aws-cn')).toThrow('needs the build region to mint the token in');
    const inUs = { ...trust, region: 'us-east-1' };
    expect(() => checkFederatedRole(inUs, 'arn:aws:iam::1:role/r', 'aws')).toThrow('STS rejects outbound-federation tokens inside one partition');
    expect(() => checkFederatedRole(inUs, 'arn:aws-cn:iam::1:role/r', 'aws-cn')).not.toThrow();
    expect(() => checkFederatedRole(DEFAULT_TRUST, 'arn:aws:iam::1:role/r', 'aws')).not.toThrow();
  });
});

describe('FIPS endpoints where AWS has them', () => {
  test.each([
    ['us-east-1', true],
    ['us-east-2', true],
    ['us-west-1', true],
    ['us-west-2', true],
    ['us-gov-west-1', true],
    ['us-gov-east-1', true],
    ['eu-west-1', false],
    ['ca-central-1', false],
    ['cn-north-1', false],
    ['cn-northwest-1', false],
    ['eusc-de-east-1', false],
  ])('%s: %s', (region, fips) => {
    expect(hasFipsEndpoint(region)).toBe(fips);
    expect(stsConfig(region, true)).toEqual({ region, useFipsEndpoint: fips, customUserAgent: UA });
    expect(stsConfig(region, false).useFipsEndpoint).toBe(false);
  });

  test('the ECR API host is the documented ecr-fips name, unless an endpoint URL overrides it', () => {
    expect(ecrConfig('us-east-1', true, {})).toEqual({
      region: 'us-east-1',
      useFipsEndpoint: false,
      endpoint: 'https://ecr-fips.us-east-1.amazonaws.com',
      customUserAgent: UA,
    });
    expect(ecrConfig('us-gov-east-1', true, {}).endpoint).toBe('https://ecr-fips.us-gov-east-1.amazonaws.com');
    expect(ecrConfig('us-east-1', false, {})).toEqual({ region: 'us-east-1', useFipsEndpoint: false, customUserAgent: UA });
    expect(ecrConfig('us-east-1', true, { AWS_ENDPOINT_URL_ECR: 'https://vpce.example' })).toEqual({
      region: 'us-east-1',
      useFipsEndpoint: true,
      customUserAgent: UA,
    });
  });
});

test('token claims are read for messages without the token itself; garbage gives none', () => {
  const token = `x.${Buffer.from(JSON.stringify({ iss: 'https://i', sub: 'arn:aws:iam::1:role/s', aud: 'sts.amazonaws.com', secret: 'no' })).toString('base64url')}.sig`;
  expect(tokenClaims(token)).toEqual({ iss: 'https://i', sub: 'arn:aws:iam::1:role/s', aud: 'sts.amazonaws.com' });
  expect(tokenClaims('not-a-jwt')).toEqual({});
});
