/**
 * The stack split measures repositories once per class (stack-split.ts ResourceMeter): the
 * shortcut must give, for every repository, exactly the bytes a full render gives, or the split
 * would plan by wrong sizes.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { PolicyDocumentJson } from '../../lib/aws/policy-documents';
import { Repositories, type RepositorySettings } from '../../lib/aws/repositories';
import { ResourceMeter } from '../../lib/aws/stack-split';

const TAGS = [{ Key: 'owner', Value: 'platform' }];
const POLICY: PolicyDocumentJson = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:role/p' }, Action: 'ecr:*' }],
};

function names(n: number): string[] {
  // Of very different lengths, so that a shortcut that ignored the name or the logical ID is off.
  return Array.from({ length: n }, (_, i) => `t${i}/${'s'.repeat(1 + ((i * 37) % 90))}`);
}

function setup(format: 'json' | 'yaml') {
  const stack = new Stack(new App(), 'Meter');
  const repositories = new Repositories(stack, 'Repositories', { untaggedImageExpiryDays: 14 });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, repositories, role: role.node.defaultChild as iam.CfnRole, meter: new ResourceMeter(format, TAGS) };
}

const settings = (name: string, extra: Partial<RepositorySettings> = {}): RepositorySettings => ({
  name,
  tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  tagMutabilityExclusions: ['latest'],
  ...extra,
});

describe('ResourceMeter', () => {
  test.each(['json', 'yaml'] as const)('a repository measured through its class is measured exactly (%s)', (format) => {
    const { stack, repositories, role, meter } = setup(format);
    const checked: [string, number, number][] = [];
    for (const [i, name] of names(40).entries()) {
      const withPolicy = i % 3 === 0;
      const repository = repositories.add(settings(name, i % 2 ? { tagMutability: 'MUTABLE' } : {}), withPolicy ? POLICY : undefined);
      if (withPolicy) repository.addResourceDependency(role);
      const settingsClass = JSON.stringify([i % 2, withPolicy]);
      checked.push([name, meter.repositoryBytes(stack, repository, name, settingsClass), meter.bytes(stack, repository)]);
    }
    expect(checked.filter(([, estimated, rendered]) => estimated !== rendered)).toEqual([]);
  });

  test('repositories of one class in JSON are rendered once', () => {
    const { stack, repositories, meter } = setup('json');
    const render = jest.spyOn(meter, 'bytes');
    for (const name of names(25)) meter.repositoryBytes(stack, repositories.add(settings(name)), name, 'one class');
    expect(render).toHaveBeenCalledTimes(1);
  });
});
