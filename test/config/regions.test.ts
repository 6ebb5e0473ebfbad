/** The region data comes from the installed AWS SDK, and ferry's own partition table agrees with it. */
import { PARTITIONS } from '../../lib/config/partitions';
import { closestRegion, ECR_FIPS_REGIONS, isKnownRegion, sdkPartitions, sdkRegions } from '../../lib/config/regions';

test('the SDK partition data loads, with the regions AWS documents', () => {
  expect(sdkRegions().get('aws-cn')).toEqual(['cn-north-1', 'cn-northwest-1']);
  expect(sdkRegions().get('aws-us-gov')).toEqual(['us-gov-east-1', 'us-gov-west-1']);
  expect(sdkRegions().get('aws-eusc')).toContain('eusc-de-east-1');
  expect(sdkRegions().get('aws')).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-2', 'mx-central-1']));
  // Pseudo-regions are not deploy targets.
  expect([...sdkRegions().values()].flat()).not.toContain('aws-global');
});

test("ferry's partition table has the SDK's DNS suffix and region shape for every partition (update partitions.ts when this fails)", () => {
  for (const sdk of sdkPartitions()) {
    const facts = PARTITIONS.get(sdk.id);
    expect(facts).toBeDefined();
    expect(facts!.dnsSuffix).toBe(sdk.outputs.dnsSuffix);
    for (const region of Object.keys(sdk.regions).filter((r) => new RegExp(sdk.regionRegex).test(r))) expect(facts!.regionPattern.test(region)).toBe(true);
  }
});

test('known regions and the closest suggestion', () => {
  expect(isKnownRegion('cn-north-1', 'aws-cn')).toBe(true);
  expect(isKnownRegion('cn-north-9', 'aws-cn')).toBe(false);
  expect(isKnownRegion('us-east-1', 'aws-us-gov')).toBe(false);
  expect(closestRegion('us-gov-west-9', 'aws-us-gov')).toBe('us-gov-west-1');
  expect(closestRegion('eu-wset-1', 'aws')).toBe('eu-west-1');
});

test('every ECR FIPS region is a known region of aws or aws-us-gov', () => {
  for (const region of ECR_FIPS_REGIONS) expect(isKnownRegion(region, 'aws') || isKnownRegion(region, 'aws-us-gov')).toBe(true);
});
