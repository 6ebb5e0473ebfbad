/**
 * Optional settings, from a copy of the example config with them filled in: imported OIDC provider,
 * permissions boundary, role path, tags, KMS, per-repository tag mutability, expiry, pusher image.
 */
import * as fs from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import type { FerryConfig, Target } from '../../lib/config/model';
import * as naming from '../../lib/config/naming';
import { allowedGrants, loadVariant, type Synthesized, synthesize } from './synth';

const IMPORTED_PROVIDER = 'arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const BUILD_BOUNDARY = 'arn:aws:iam::111111111111:policy/ferry-boundary';
const CHINA_BOUNDARY = 'arn:aws-cn:iam::333333333333:policy/ferry-boundary';
const BUILD_KEY = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';

let dir: string;
let config: FerryConfig;
let synth: Synthesized;
let build: Target;
let china: Target;

beforeAll(() => {
  ({ dir, config } = loadVariant({
    'build.yaml': {
      oidcProviderArn: IMPORTED_PROVIDER,
      permissionsBoundaryArn: BUILD_BOUNDARY,
      rolePath: '/ferry/',
      kmsKeyArn: BUILD_KEY,
      tags: { owner: 'platform', 'cost-center': '4711' },
    },
    'aws-cn.yaml': { 'destinations.0.permissionsBoundaryArn': CHINA_BOUNDARY, 'destinations.0.tags': { team: 'china-ops' } },
    'shared.yaml': {
      repositories: [
        { name: 'ferry/demo-app' },
        { name: 'team/mutable', tagMutability: 'MUTABLE' },
        { name: 'team/strict', tagMutability: 'IMMUTABLE' },
        { name: 'team/custom', tagMutabilityExclusions: ['latest', 'dev-*'] },
        { name: 'team/inverse', tagMutability: 'MUTABLE_WITH_EXCLUSION', tagMutabilityExclusions: ['v*'] },
      ],
      untaggedImageExpiryDays: 3,
      cacheRepository: 'team/kaniko-cache',
      'images.pusher': 'registry.example.com/tools/ferry:1.0.0',
    },
  }));
  synth = synthesize(config);
  build = config.build;
  china = config.destinations.find((t) => t.name === 'china')!;
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('an imported OIDC provider is trusted by its ARN and not created', () => {
  const template = synth.template(build);
  template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
  template.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: IMPORTED_PROVIDER } })] },
  });
  template.hasResource('AWS::IAM::Role', { DependsOn: Match.absent() });
  // Destinations without the setting still create theirs.
  synth.template(china).resourceCountIs('AWS::IAM::OIDCProvider', 1);
});

test('the permissions boundary is set on the role when configured, and only then', () => {
  synth.template(build).hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: BUILD_BOUNDARY });
  synth.template(china).hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: CHINA_BOUNDARY });
  const govcloud = config.destinations.find((t) => t.name === 'govcloud')!;
  synth.template(govcloud).hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: Match.absent() });
});

test('the role path is applied, and the role ARN from naming includes it', () => {
  synth.template(build).hasResourceProperties('AWS::IAM::Role', { Path: '/ferry/', RoleName: naming.roleName(build) });
  synth.template(build).hasResourceProperties('AWS::IAM::ManagedPolicy', { Path: '/ferry/' });
  expect(naming.roleArn(build)).toBe('arn:aws:iam::111111111111:role/ferry/ferry-builder-build');
});

test('tags reach the repositories, the role and the provider of their own stack only', () => {
  const has = (target: Target, type: string, tags: Record<string, string>) =>
    Object.values(synth.template(target).findResources(type)).every((r) =>
      Object.entries(tags).every(([Key, Value]) => (r.Properties.Tags ?? []).some((t: any) => t.Key === Key && t.Value === Value)),
    );
  expect(has(build, 'AWS::ECR::Repository', { owner: 'platform', 'cost-center': '4711' })).toBe(true);
  expect(has(build, 'AWS::IAM::Role', { owner: 'platform', 'cost-center': '4711' })).toBe(true);
  expect(has(china, 'AWS::IAM::Role', { team: 'china-ops' })).toBe(true);
  expect(has(china, 'AWS::IAM::OIDCProvider', { team: 'china-ops' })).toBe(true);
  expect(JSON.stringify(synth.json(china))).not.toContain('cost-center');
});

test('a KMS key encrypts every repository of its account', () => {
  const repositories = Object.values(synth.template(build).findResources('AWS::ECR::Repository'));
  expect(repositories.length).toBeGreaterThan(0);
  for (const r of repositories) expect(r.Properties.EncryptionConfiguration).toEqual({ EncryptionType: 'KMS', KmsKey: BUILD_KEY });
  for (const r of Object.values(synth.template(china).findResources('AWS::ECR::Repository')))
    expect(r.Properties.EncryptionConfiguration).toEqual({ EncryptionType: 'AES256' });
});

test.each([
  ['ferry/demo-app', 'IMMUTABLE_WITH_EXCLUSION', ['latest']],
  ['team/mutable', 'MUTABLE', undefined],
  ['team/strict', 'IMMUTABLE', undefined],
  ['team/custom', 'IMMUTABLE_WITH_EXCLUSION', ['latest', 'dev-*']],
  ['team/inverse', 'MUTABLE_WITH_EXCLUSION', ['v*']],
])('repository %s: tag mutability %s with exclusions %j, in every account', (name, mutability, exclusions) => {
  for (const target of naming.allTargets(config)) {
    synth.template(target).hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: name,
      ImageTagMutability: mutability,
      ImageTagMutabilityExclusionFilters: exclusions
        ? exclusions.map((v) => ({ ImageTagMutabilityExclusionFilterType: 'WILDCARD', ImageTagMutabilityExclusionFilterValue: v }))
        : Match.absent(),
    });
  }
});

test('the untagged-image expiry follows the config', () => {
  for (const r of Object.values(synth.template(china).findResources('AWS::ECR::Repository'))) {
    const { rules } = JSON.parse(r.Properties.LifecyclePolicy.LifecyclePolicyText);
    expect(rules).toEqual([
      expect.objectContaining({ selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 3, countUnit: 'days' } }),
    ]);
  }
});

test('a configured pusher image means no pusher repository; the configured cache repository is the one pulled from', () => {
  const names = Object.values(synth.template(build).findResources('AWS::ECR::Repository')).map((r) => r.Properties.RepositoryName);
  expect(names).not.toContain(naming.PUSHER_REPOSITORY);
  expect(names).toContain('team/kaniko-cache');
  const pulls = allowedGrants(synth.template(build), naming.rolePolicyName(build)).filter((g) => g.startsWith('ecr:GetDownloadUrlForLayer '));
  expect(pulls).toEqual([`ecr:GetDownloadUrlForLayer ${naming.repositoryArn(build, 'team/kaniko-cache')}`]);
});

test('every destination pushes to every configured repository and nothing else', () => {
  for (const target of config.destinations) {
    const pushed = allowedGrants(synth.template(target))
      .filter((g) => g.startsWith('ecr:PutImage '))
      .map((g) => g.slice('ecr:PutImage '.length));
    expect(pushed.sort()).toEqual(config.repositories.map((r) => naming.repositoryArn(target, r.name)).sort());
  }
});
