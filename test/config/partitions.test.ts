import { arnPrefix, ecrRegistryHost, PARTITIONS, parseEcrHost, partitionOfRegion } from '../../lib/config/partitions';

describe('the partition table', () => {
  test.each([
    ['us-east-1', 'aws'],
    ['eu-central-2', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['cn-northwest-1', 'aws-cn'],
    ['eusc-de-east-1', 'aws-eusc'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
  ])('%s is in %s', (region, id) => {
    expect(partitionOfRegion(region)?.id).toBe(id);
  });

  test('a made-up region is in no partition', () => {
    expect(partitionOfRegion('moon-base-1')).toBeUndefined();
  });

  test('ARNs start with the partition literal', () => {
    expect(arnPrefix('aws-us-gov')).toBe('arn:aws-us-gov:');
    expect(() => arnPrefix('aws-moon')).toThrow('unknown partition "aws-moon"');
  });

  test.each([
    ['123456789012', 'us-east-1', false, '123456789012.dkr.ecr.us-east-1.amazonaws.com'],
    ['123456789012', 'us-gov-west-1', true, '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com'],
    ['123456789012', 'cn-north-1', false, '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ['123456789012', 'eusc-de-east-1', false, '123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu'],
  ])('ECR host of %s in %s (fips %s) is %s, and parses back', (account, region, fips, host) => {
    expect(ecrRegistryHost(account, region, { fips })).toBe(host);
    expect(parseEcrHost(host)).toMatchObject({ account, region, fips, partition: PARTITIONS.get(partitionOfRegion(region)!.id) });
  });

  test.each([
    'registry.example.com',
    '123456789012.dkr.ecr.cn-north-1.amazonaws.com', // China region with the commercial suffix
    '12345678901.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
  ])('%s is not an ECR host', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });
});
