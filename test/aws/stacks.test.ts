/**
 * The example config's stacks, one describe block per target: trust, permissions, repositories,
 * partition-correct ARNs, the synthesizer, and that cdk-nag passed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { CONTROL_TOWER_PLUGIN } from '../../lib/aws/control-tower';
import { ECR_LIST_ACTION, ECR_LOGIN_ACTION, ECR_PULL_ACTIONS, ECR_PUSH_ACTIONS } from '../../lib/aws/irsa-role';
import { providerOf } from '../../lib/aws/providers';
import { KANIKO_CACHE_TTL_DAYS } from '../../lib/aws/target-stack';
import { loadConfig } from '../../lib/config/load';
import type { Target } from '../../lib/config/model';
import * as naming from '../../lib/config/naming';
import { EXAMPLE_CONFIG } from '../support/config-fixture';
import { allowedGrants, type Synthesized, synthesize } from './synth';

const exampleConfig = loadConfig(EXAMPLE_CONFIG);
let synth: Synthesized;

beforeAll(() => {
  synth = synthesize(exampleConfig);
});

test('the example config yields the build stack and one stack per destination, each account a doctor stack beside', () => {
  expect(synth.assembly.stacks.map((s) => s.stackName).sort()).toEqual([
    'ferry-build',
    'ferry-build-doctor',
    'ferry-china',
    'ferry-china-doctor',
    'ferry-govcloud',
    'ferry-govcloud-doctor',
  ]);
});

describe.each(naming.allTargets(exampleConfig).map((t) => [naming.stackName(t), t] as const))('%s', (_name, target: Target) => {
  const { cluster } = exampleConfig;
  const template = () => synth.template(target);
  const text = () => JSON.stringify(synth.json(target));
  const artifact = () => synth.assembly.getStackByName(naming.stackName(target));

  test('is deployed to the configured account and region, protected from deletion', () => {
    expect(artifact().environment).toMatchObject({ account: target.account, region: target.region });
    expect(artifact().terminationProtection).toBe(true);
  });

  // Cluster-oidc: the push ServiceAccount through the cluster issuer. Outbound-federation: the
  // source role through the build account's outbound issuer (more in federation.test.ts).
  test('the role trusts only its one subject and audience, through the provider of the issuer its trust path names', () => {
    const provider = providerOf(exampleConfig, target);
    const subject = target.trust === 'outbound-federation' ? naming.sourceRoleArn(exampleConfig, target) : naming.serviceAccountSubject(cluster, target);
    expect(provider.issuerUrl).toBe(target.trust === 'outbound-federation' ? exampleConfig.outboundFederation!.issuerUrl : cluster.issuerUrl);
    template().hasResourceProperties('AWS::IAM::Role', {
      RoleName: naming.roleName(target),
      Path: target.rolePath,
      AssumeRolePolicyDocument: Match.objectEquals({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: provider.arn },
            Condition: {
              StringEquals: {
                [`${provider.issuerHostPath}:sub`]: subject,
                [`${provider.issuerHostPath}:aud`]: 'sts.amazonaws.com',
              },
            },
          },
        ],
      }),
    });
    expect(naming.serviceAccountSubject(cluster, target)).toBe(`system:serviceaccount:ci:${naming.serviceAccountName(target)}`);
  });

  test('the role ARN that the Kubernetes side uses is the role this template creates', () => {
    const role = Object.values(template().findResources('AWS::IAM::Role', { Properties: { RoleName: naming.roleName(target) } }))[0].Properties;
    expect(`arn:${target.partition.id}:iam::${target.account}:role${role.Path}${role.RoleName}`).toBe(naming.roleArn(target));
  });

  test('the OIDC provider is created for the issuer the role trusts, with the STS audience, before the role', () => {
    const providers = template().findResources('AWS::IAM::OIDCProvider');
    const issuer = target.trust === 'outbound-federation' ? exampleConfig.outboundFederation!.issuerUrl : cluster.issuerUrl;
    expect(Object.values(providers).map((p) => p.Properties)).toEqual([expect.objectContaining({ Url: issuer, ClientIdList: ['sts.amazonaws.com'] })]);
    expect(Object.values(providers)[0].Properties.ThumbprintList).toBeUndefined();
    template().hasResource('AWS::IAM::Role', { DependsOn: Object.keys(providers) });
  });

  test('permissions: push on exactly this account\'s repository ARNs, and "*" only for the registry login', () => {
    const repositories = naming.repositoriesOf(exampleConfig, target);
    const grant = (actions: readonly string[], names: readonly string[]) => actions.flatMap((a) => names.map((n) => `${a} ${naming.repositoryArn(target, n)}`));
    const expected = [
      `${ECR_LOGIN_ACTION} *`,
      ...grant(target.kind === 'build' ? ECR_PUSH_ACTIONS : [...ECR_PUSH_ACTIONS, ECR_LIST_ACTION], repositories),
      ...(target.kind === 'build' ? grant(ECR_PULL_ACTIONS, [exampleConfig.cacheRepository]) : []),
    ];
    const own = allowedGrants(template(), naming.rolePolicyName(target));
    expect([...new Set(own)]).toEqual([...new Set(expected)].sort());
    expect(own.filter((g) => g.endsWith(' *'))).toEqual([`${ECR_LOGIN_ACTION} *`]);
    for (const name of repositories)
      expect(naming.repositoryArn(target, name)).toBe(`arn:${target.partition.id}:ecr:${target.region}:${target.account}:repository/${name}`);
  });

  test('the permissions are a customer-managed policy attached to the role, with no inline policies', () => {
    template().resourceCountIs('AWS::IAM::Policy', 0);
    const roleId = Object.keys(template().findResources('AWS::IAM::Role', { Properties: { RoleName: naming.roleName(target) } }))[0];
    for (const role of Object.values(template().findResources('AWS::IAM::Role'))) expect(role.Properties.Policies).toBeUndefined();
    // The build stack also holds one source role (and policy) per destination in another account.
    const sourceRoles = target.kind === 'build' ? exampleConfig.destinations.filter((d) => naming.sourceRoleInBuildStack(exampleConfig, d)).length : 0;
    template().resourceCountIs('AWS::IAM::ManagedPolicy', 1 + sourceRoles);
    template().hasResourceProperties('AWS::IAM::ManagedPolicy', { ManagedPolicyName: naming.rolePolicyName(target), Roles: [{ Ref: roleId }] });
  });

  if (target.kind === 'build') {
    test('the builder may pull from and push to the Kaniko cache', () => {
      const cacheArn = naming.repositoryArn(target, exampleConfig.cacheRepository);
      for (const action of ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:PutImage'])
        expect(allowedGrants(template())).toContain(`${action} ${cacheArn}`);
    });
  } else {
    test('the pusher cannot pull layers and only reaches the configured repositories', () => {
      expect(allowedGrants(template()).filter((g) => g.startsWith('ecr:GetDownloadUrlForLayer'))).toEqual([]);
      expect(naming.repositoriesOf(exampleConfig, target)).toEqual(exampleConfig.repositories.map((r) => r.name));
    });
  }

  test('ARNs are literal and name this partition only (but for the source role an outbound token names)', () => {
    // The one ARN of another partition: the `sub` an outbound-federation role trusts, a string IAM only compares.
    const source = target.trust === 'outbound-federation' ? naming.sourceRoleArn(exampleConfig, target) : undefined;
    const partitions = [
      ...text()
        .split(source ?? '\0')
        .join('')
        .matchAll(/arn:([a-z0-9-]+):/g),
    ].map((m) => m[1]);
    expect(partitions.length).toBeGreaterThan(0);
    expect(new Set(partitions)).toEqual(new Set([target.partition.id]));
    expect(text()).not.toContain('AWS::Partition');
    if (target.partition.id !== 'aws')
      expect(
        text()
          .split(source ?? '\0')
          .join(''),
      ).not.toContain('arn:aws:');
  });

  test('one repository per configured image (plus the cache and pusher repositories in the build account)', () => {
    const names = Object.values(template().findResources('AWS::ECR::Repository')).map((r) => r.Properties.RepositoryName);
    expect(names.sort()).toEqual([...naming.repositoriesOf(exampleConfig, target)].sort());
    if (target.kind === 'build') expect(names).toEqual(expect.arrayContaining([exampleConfig.cacheRepository, naming.PUSHER_REPOSITORY]));
  });

  test('configured repositories: scan on push, immutable tags except latest, AES256, retained', () => {
    for (const repository of exampleConfig.repositories) {
      template().hasResource('AWS::ECR::Repository', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          RepositoryName: repository.name,
          ImageScanningConfiguration: { ScanOnPush: true },
          ImageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
          ImageTagMutabilityExclusionFilters: [{ ImageTagMutabilityExclusionFilterType: 'WILDCARD', ImageTagMutabilityExclusionFilterValue: 'latest' }],
          EncryptionConfiguration: { EncryptionType: 'AES256' },
        }),
      });
    }
  });

  test('every repository expires untagged images after the configured days, and only the cache expires tagged ones', () => {
    for (const resource of Object.values(template().findResources('AWS::ECR::Repository'))) {
      const { rules } = JSON.parse(resource.Properties.LifecyclePolicy.LifecyclePolicyText);
      const untagged = { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: exampleConfig.untaggedImageExpiryDays, countUnit: 'days' };
      const anyImage = { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: KANIKO_CACHE_TTL_DAYS, countUnit: 'days' };
      const isCache = resource.Properties.RepositoryName === exampleConfig.cacheRepository;
      expect(rules.map((r: any) => r.selection)).toEqual(isCache ? [untagged, anyImage] : [untagged]);
      expect(rules.map((r: any) => r.action)).toEqual(rules.map(() => ({ type: 'expire' })));
    }
  });

  if (target.kind === 'build') {
    test('the Kaniko cache has mutable tags, so expired cache entries can be pushed again', () => {
      template().hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: exampleConfig.cacheRepository,
        ImageTagMutability: 'MUTABLE',
        ImageTagMutabilityExclusionFilters: Match.absent(),
      });
    });
  }

  test('the configured tags are on every taggable resource', () => {
    const expected = Object.entries(target.tags).map(([Key, Value]) => ({ Key, Value }));
    for (const type of ['AWS::ECR::Repository', 'AWS::IAM::Role', 'AWS::IAM::OIDCProvider']) {
      for (const resource of Object.values(template().findResources(type))) {
        expect(resource.Properties.Tags ?? []).toEqual(expect.arrayContaining(expected));
      }
    }
  });

  test('no assets: no Lambda, no custom resources, nothing to publish but the template itself', () => {
    const types = Object.values(synth.json(target).Resources).map((r: any) => r.Type as string);
    expect(types.filter((t) => t.startsWith('AWS::Lambda::') || t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource')).toEqual([]);
    for (const dependency of artifact().dependencies) {
      const contents = (dependency as { contents?: { files?: Record<string, any>; dockerImages?: Record<string, unknown> } }).contents;
      if (!contents) continue;
      expect(Object.values(contents.files ?? {}).map((f) => f.source.path)).toEqual([artifact().templateFile]);
      expect(contents.dockerImages ?? {}).toEqual({});
    }
  });

  if (target.synthesizer === 'cli-credentials') {
    test("cli-credentials: deploys with the caller's credentials, template inline, no bootstrap needed", () => {
      expect(artifact().assumeRoleArn).toBeUndefined();
      expect(artifact().cloudFormationExecutionRoleArn).toBeUndefined();
      expect(artifact().stackTemplateAssetObjectUrl).toBeUndefined();
      expect(artifact().requiresBootstrapStackVersion).toBeUndefined();
      // Only the account's doctor stack deploys before it (no assets).
      expect(artifact().dependencies.map((d) => d.id)).toEqual([naming.doctorStackName(target)]);
      expect(synth.json(target).Parameters?.BootstrapVersion).toBeUndefined();
    });
  } else {
    test('bootstrapped: deploys through the CDK bootstrap roles of its own account and partition', () => {
      expect(artifact().assumeRoleArn).toBe(`arn:\${AWS::Partition}:iam::${target.account}:role/cdk-hnb659fds-deploy-role-${target.account}-${target.region}`);
      expect(artifact().requiresBootstrapStackVersion).toBeGreaterThanOrEqual(6);
    });
  }
});

describe('cdk-nag (AwsSolutions and NIST 800-53 R5) on the example config', () => {
  const report = () => JSON.parse(fs.readFileSync(path.join(synth.assembly.directory, 'validation-report.json'), 'utf8'));

  // That both packs run at all is proven in nag.test.ts, where each reports a finding.
  test('found nothing that is not acknowledged', () => {
    const reports = report().pluginReports;
    for (const r of reports) {
      expect(r.conclusion).toBe('success');
      expect(r.violations).toEqual([]);
    }
  });

  test('the only cdk-nag acknowledgements are the wildcards IAM offers no resource type for, on each role and source role policy, with its reason', () => {
    const suppressed = report()
      .pluginReports.filter((r: any) => r.pluginName !== CONTROL_TOWER_PLUGIN)
      .flatMap((r: any) => r.suppressedViolations ?? []);
    const where = suppressed.flatMap((s: any) => s.violatingConstructs.map((c: any) => `${s.ruleName} ${c.constructPath}`));
    const sources = exampleConfig.destinations.filter((d) => naming.sourceRoleInBuildStack(exampleConfig, d));
    expect(where.sort()).toEqual(
      [
        ...naming.allTargets(exampleConfig).map((t) => `AwsSolutions-IAM5[Resource::*] ${naming.stackName(t)}/Role/Policy/Resource`),
        ...sources.map((d) => `AwsSolutions-IAM5[Resource::*] ${naming.stackName(exampleConfig.build)}/SourceRole-${d.name}/Policy/Resource`),
        // The doctor's policy: the stack-ID suffix of its own stack's ARN, and in the build account the outbound federation read.
        ...naming
          .allTargets(exampleConfig)
          .flatMap((t) =>
            [naming.stackName(t), naming.doctorStackName(t)].map(
              (s) =>
                `AwsSolutions-IAM5[Resource::arn:${t.partition.id}:cloudformation:${t.region}:${t.account}:stack/${s}/*] ${naming.doctorStackName(t)}/DoctorRole/Policy/Resource`,
            ),
          ),
        `AwsSolutions-IAM5[Resource::*] ${naming.doctorStackName(exampleConfig.build)}/DoctorRole/Policy/Resource`,
      ].sort(),
    );
    for (const s of suppressed.filter((x: any) => !x.violatingConstructs.some((c: any) => c.constructPath.includes('/DoctorRole/'))))
      expect(s.reason).toContain(ECR_LOGIN_ACTION);
  });
});

describe('Control Tower proactive controls (cfn-guard) on the example config', () => {
  const report = () => JSON.parse(fs.readFileSync(path.join(synth.assembly.directory, 'validation-report.json'), 'utf8'));
  const controlTower = () => report().pluginReports.find((r: any) => r.pluginName === CONTROL_TOWER_PLUGIN);

  test('ran, and its only failures are CT.ECR.PR.3 on the repositories whose tags are not IMMUTABLE, each acknowledged with its reason', () => {
    expect(controlTower()).toMatchObject({ conclusion: 'success', violations: [] });
    const where = controlTower().suppressedViolations.flatMap((s: any) => s.violatingConstructs.map((c: any) => `${s.ruleName} ${c.constructPath}`));
    const expected = naming
      .allTargets(exampleConfig)
      .flatMap((t) =>
        [...exampleConfig.repositories.map((r) => r.name), ...(t.kind === 'build' ? [exampleConfig.cacheRepository] : [])].map(
          (name) => `ecr_private_tag_immutability_enabled_check ${naming.stackName(t)}/Repositories/${name.replace(/\//g, '--')}/Resource`,
        ),
      );
    expect(where.sort()).toEqual(expected.sort());
    for (const s of controlTower().suppressedViolations) expect(s.reason).toMatch(/IMMUTABLE.*CT\.ECR\.PR\.3|CT\.ECR\.PR\.3.*IMMUTABLE/);
  });

  test('the pusher image repository is IMMUTABLE: it is pushed once per ferry version and its tag never moves', () => {
    synth
      .template(exampleConfig.build)
      .hasResourceProperties('AWS::ECR::Repository', { RepositoryName: naming.PUSHER_REPOSITORY, ImageTagMutability: 'IMMUTABLE' });
  });
});
