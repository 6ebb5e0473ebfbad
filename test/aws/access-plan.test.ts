/** Packing of grants into managed policies, shared policies, and the move into repository policies. */
import { planAccess, type RoleAccess } from '../../lib/aws/access-plan';
import { MANAGED_POLICY_PACK_CHARS, packGrants, policyChars } from '../../lib/aws/policy-documents';

const ARN = (i: number) => `arn:aws-us-gov:ecr:us-gov-west-1:222222222222:repository/team-${i % 37}/service-${String(i).padStart(4, '0')}`;
const arns = (n: number) => Array.from({ length: n }, (_, i) => ARN(i));

function role(id: string, repositories: number, extra: RoleAccess['statements'] = []): RoleAccess {
  return {
    id,
    roleName: `ferry-pusher-${id}`,
    roleArn: `arn:aws-us-gov:iam::222222222222:role/ferry-pusher-${id}`,
    policyName: (i) => `ferry-pusher-${id}-ecr${i ? `-${i + 1}` : ''}`,
    statements: [
      { sid: 'RegistryLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      { sid: 'Pull', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], resources: arns(repositories), local: true },
      ...extra,
    ],
  };
}

/** Every (action, resource) a set of documents allows. */
function grants(documents: { Statement: Record<string, unknown>[] }[]): string[] {
  return documents
    .flatMap((d) => d.Statement)
    .flatMap((s) => [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} ${r}`)))
    .sort();
}

test('packing splits by resources, never widens, and keeps every document within the budget', () => {
  const grant = { sid: 'Push', actions: ['ecr:PutImage'], resources: arns(400) };
  const documents = packGrants([grant]);
  expect(documents.length).toBeGreaterThan(4);
  for (const d of documents) expect(policyChars(d)).toBeLessThanOrEqual(MANAGED_POLICY_PACK_CHARS);
  expect(grants(documents)).toEqual(
    arns(400)
      .map((a) => `ecr:PutImage ${a}`)
      .sort(),
  );
  // Greedy: all but the last are full (one more ARN would not fit).
  for (const d of documents.slice(0, -1)) expect(policyChars(d) + ARN(0).length + 3).toBeGreaterThan(MANAGED_POLICY_PACK_CHARS);
});

test('a role that fits keeps one policy; a grant several crowded roles share is one shared policy set', () => {
  const plan = planAccess({ stackName: 'ferry-build', roles: [role('small', 3), role('a', 150), role('b', 150)], sharedPolicyName: (i) => `shared-${i + 1}` });
  expect(plan.roles.get('small')?.documents.map((d) => d.name)).toEqual(['ferry-pusher-small-ecr']);
  const sharedDocuments = packGrants([role('a', 150).statements[1]]).length;
  expect(sharedDocuments).toBeGreaterThan(1);
  expect(plan.shared.map((s) => s.name)).toEqual(Array.from({ length: sharedDocuments }, (_, i) => `shared-${i + 1}`));
  for (const s of plan.shared) expect(s.roles).toEqual(['a', 'b']);
  expect(plan.roles.get('a')?.shared).toEqual(Array.from({ length: sharedDocuments }, (_, i) => i));
  // a's own policy keeps only the login; the pull is in the shared policies.
  expect(grants(plan.roles.get('a')!.documents.map((d) => d.document))).toEqual(['ecr:GetAuthorizationToken *']);
  expect(grants(plan.shared.map((s) => s.document)).length).toBe(300);
  expect(plan.repositoryStatements.size).toBe(0);
});

test("past IAM's managed policies per role, the repository grants move into repository policies naming the role ARN", () => {
  const extra = { sid: 'Prefix', actions: ['ecr:CreateRepository'], resources: ['arn:aws-us-gov:ecr:us-gov-west-1:222222222222:repository/team-1/*'] };
  const plan = planAccess({ stackName: 'ferry-gov', roles: [role('big', 1000, [extra])], sharedPolicyName: (i) => `shared-${i}` });
  const big = plan.roles.get('big')!;
  expect(big.inRepositoryPolicies).toBe(true);
  // The extra statement flows through unchanged, next to the login.
  expect(grants(big.documents.map((d) => d.document))).toEqual([
    'ecr:CreateRepository arn:aws-us-gov:ecr:us-gov-west-1:222222222222:repository/team-1/*',
    'ecr:GetAuthorizationToken *',
  ]);
  expect(plan.repositoryStatements.size).toBe(1000);
  expect(plan.repositoryStatements.get(ARN(7))).toEqual([
    {
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws-us-gov:iam::222222222222:role/ferry-pusher-big' },
      Sid: 'Pull',
    },
  ]);
  expect(plan.notices).toEqual([
    expect.stringMatching(
      /^ferry: ferry-gov: role ferry-pusher-big would need 1[0-9] managed policies \(IAM allows 10 per role\), so its grants on 1000 repositories are in those repositories' policies/,
    ),
  ]);
});

test('the quota boundary: a role packed into 9 documents stays managed (room for one more when shared), 10 or more move', () => {
  const moved = (n: number) => planAccess({ stackName: 's', roles: [role('r', n)], sharedPolicyName: String }).roles.get('r')!.inRepositoryPolicies;
  const documents = (n: number) => packGrants(role('r', n).statements).length;
  let n = 1;
  while (documents(n + 10) <= 9) n += 10;
  expect(documents(n)).toBeLessThanOrEqual(9);
  expect(moved(n)).toBe(false);
  let m = n;
  while (documents(m) <= 9) m += 1;
  expect(moved(m)).toBe(true);
});
