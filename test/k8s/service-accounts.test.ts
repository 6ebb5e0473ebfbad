import type { Target } from '../../lib/config/model';
import { allTargets, roleArn, serviceAccountName, sourceRoleArn, WORKFLOW_SERVICE_ACCOUNT } from '../../lib/config/naming';
import { configWith, exampleConfig, manifests } from './helpers';

const config = exampleConfig();
const out = manifests(config);
const accounts = out.ofKind('ServiceAccount');

describe('ServiceAccounts', () => {
  // The builder carries its own role; a pusher its SOURCE role in the build account, which pulls
  // from the build registry and reaches the destination role itself (whatever the trust path).
  const expectedRole = (target: Target) => (target.kind === 'build' ? roleArn(target) : sourceRoleArn(config, target));

  test.each(allTargets(config).map((t) => [t.name, t] as const))(
    '%s: annotated with its role in the build account, the audience and regional STS',
    (_name, target) => {
      const sa = accounts.find((a) => a.metadata.name === serviceAccountName(target));
      expect(sa).toBeDefined();
      expect(sa.metadata.namespace).toBe(config.cluster.namespace);
      expect(sa.metadata.annotations).toEqual({
        'eks.amazonaws.com/role-arn': expectedRole(target),
        'eks.amazonaws.com/audience': config.cluster.audience,
        'eks.amazonaws.com/sts-regional-endpoints': 'true',
      });
      const build = config.build;
      expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toMatch(
        new RegExp(`^arn:${build.partition.id}:iam::${build.account}:role${build.rolePath}ferry-`),
      );
    },
  );

  test('a destination in the build account carries its own pusher role, which is also its source role', () => {
    const same = configWith({ 'aws.yaml': 'partition: aws\ndestinations:\n  - name: east2\n    account: "111111111111"\n    region: us-east-2\n' });
    const destination = same.destinations.find((d) => d.name === 'east2')!;
    const sa = manifests(same)
      .ofKind('ServiceAccount')
      .find((a) => a.metadata.name === 'ferry-pusher-east2');
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(roleArn(destination));
  });

  test('one builder, one pusher per destination, and the role-less workflow account: nothing else', () => {
    expect(accounts.map((a) => a.metadata.name).sort()).toEqual([...allTargets(config).map(serviceAccountName), WORKFLOW_SERVICE_ACCOUNT].sort());
    const workflow = accounts.find((a) => a.metadata.name === WORKFLOW_SERVICE_ACCOUNT);
    expect(workflow.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
  });

  test("tokens are mounted, because Argo's executor in each pod authenticates with them", () => {
    for (const sa of accounts) expect(sa.automountServiceAccountToken).toBe(true);
  });
});

describe('executor RBAC', () => {
  const role = out.ofKind('Role')[0];
  const binding = out.ofKind('RoleBinding')[0];

  test('the Role grants exactly workflowtaskresults create and patch', () => {
    expect(out.ofKind('Role')).toHaveLength(1);
    expect(role.rules).toEqual([{ apiGroups: ['argoproj.io'], resources: ['workflowtaskresults'], verbs: ['create', 'patch'] }]);
  });

  test('it is bound to every account a pipeline pod runs as', () => {
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    const subjects = binding.subjects.map((s: { kind: string; name: string; namespace: string }) => `${s.kind}/${s.namespace}/${s.name}`);
    const podAccounts = new Set(out.podTemplates().map(({ template }) => template.serviceAccountName));
    const entryAccounts = out.ofKind('WorkflowTemplate').flatMap((wt) => (wt.spec.serviceAccountName ? [wt.spec.serviceAccountName] : []));
    expect(podAccounts.size).toBeGreaterThanOrEqual(config.destinations.length + 2);
    for (const name of [...podAccounts, ...entryAccounts]) expect(subjects).toContain(`ServiceAccount/${config.cluster.namespace}/${name}`);
  });
});
