/** Each AWS limit the synth checks, broken once on a hand-made template and kept once at the limit. */
import { LIMITS, limitFindings, type StackTemplate, type Template } from '../../lib/aws/limits';

const ARN = (i: number) => `arn:aws:ecr:us-east-1:111111111111:repository/team/app-${String(i).padStart(5, '0')}`;

function stack(template: Template, opts: Partial<StackTemplate> = {}): StackTemplate {
  return { stackName: 'ferry-x', template, inline: false, bytes: 1000, ...opts };
}

/** A policy document of exactly `chars` characters without whitespace. */
function documentOf(chars: number): Record<string, unknown> {
  const base = { Statement: [{ Action: 'ecr:PutImage', Effect: 'Allow', Resource: '' }], Version: '2012-10-17' };
  const size = JSON.stringify(base).length;
  return { ...base, Statement: [{ ...base.Statement[0], Resource: 'a'.repeat(chars - size) }] };
}

const role = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::IAM::Role',
  Properties: { RoleName: 'ferry-pusher-x', AssumeRolePolicyDocument: documentOf(500), ...props },
});
const policy = (chars: number, roles = [{ Ref: 'Role' }]) => ({
  Type: 'AWS::IAM::ManagedPolicy',
  Properties: { ManagedPolicyName: 'ferry-pusher-x-ecr', PolicyDocument: documentOf(chars), Roles: roles },
});
const many = (n: number, make: (i: number) => any): Record<string, any> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`R${i}`, make(i)]));

test.each([
  [
    'resources per stack',
    (n: number) => stack({ Resources: many(n, () => ({ Type: 'AWS::ECR::Repository' })) }),
    LIMITS.resourcesPerStack,
    /^ferry-x: 501 resources, over CloudFormation's 500 per stack/,
  ],
  [
    'outputs per stack',
    (n: number) => stack({ Outputs: many(n, () => ({})) }),
    LIMITS.outputsPerStack,
    /^ferry-x: 201 outputs, over CloudFormation's 200 per stack/,
  ],
  [
    'parameters per stack',
    (n: number) => stack({ Parameters: many(n, () => ({})) }),
    LIMITS.parametersPerStack,
    /^ferry-x: 201 parameters, over CloudFormation's 200 per stack/,
  ],
  [
    'template bytes from S3',
    (n: number) => stack({}, { bytes: n }),
    LIMITS.templateBytesS3,
    /^ferry-x: the template is 1000001 bytes, over CloudFormation's 1000000-byte limit for templates uploaded to S3/,
  ],
  [
    'template bytes inline',
    (n: number) => stack({}, { bytes: n, inline: true }),
    LIMITS.templateBytesInline,
    /^ferry-x: the template is 51201 bytes, over CloudFormation's 51200-byte limit for templates sent inline \(synthesizer: cli-credentials\); set synthesizer: bootstrapped/,
  ],
  [
    'managed policy characters without whitespace',
    (n: number) => stack({ Resources: { Role: role(), Policy: policy(n) } }),
    LIMITS.managedPolicyChars,
    /^ferry-x: managed policy Policy \(ferry-pusher-x-ecr\) is 6145 characters without whitespace, over IAM's 6144 per policy document/,
  ],
  [
    'managed policies per role, counting Roles of AWS::IAM::ManagedPolicy and ManagedPolicyArns',
    (n: number) =>
      stack({
        Resources: {
          Role: role({ ManagedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }),
          ...many(n - 1, () => policy(100)),
        },
      }),
    LIMITS.managedPoliciesPerRole,
    /^ferry-x: role Role \(ferry-pusher-x\) has 11 managed policies attached, over IAM's default quota of 10 per role/,
  ],
  [
    'inline policy characters per role',
    (n: number) =>
      stack({
        Resources: {
          Role: role({
            Policies: [
              { PolicyName: 'a', PolicyDocument: documentOf(n - 100) },
              { PolicyName: 'b', PolicyDocument: documentOf(100) },
            ],
          }),
        },
      }),
    LIMITS.inlinePolicyCharsPerRole,
    /^ferry-x: role Role \(ferry-pusher-x\) has 10241 characters of inline policy, over IAM's 10240 per role/,
  ],
  [
    'trust policy characters',
    (n: number) => stack({ Resources: { Role: role({ AssumeRolePolicyDocument: documentOf(n) }) } }),
    LIMITS.trustPolicyChars,
    /^ferry-x: role Role \(ferry-pusher-x\) has a trust policy of 2049 characters, over IAM's default quota of 2048/,
  ],
  [
    'repository policy characters',
    (n: number) =>
      stack({ Resources: { Repo: { Type: 'AWS::ECR::Repository', Properties: { RepositoryName: 'team/app', RepositoryPolicyText: documentOf(n) } } } }),
    LIMITS.repositoryPolicyChars,
    /^ferry-x: repository Repo \(team\/app\) has a repository policy of 10241 characters, over ECR's 10240/,
  ],
] as const)('%s: the limit passes, one more is refused with one line naming stack, resource and limit', (_name, make, limit, message) => {
  expect(limitFindings([make(limit)])).toEqual([]);
  const findings = limitFindings([make(limit + 1)]);
  expect(findings).toHaveLength(1);
  expect(findings[0]).toMatch(message);
});

test('whitespace does not count toward a managed policy: IAM measures the document without it', () => {
  const template = (arns: number): Template => ({
    Resources: {
      Role: role(),
      Policy: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          PolicyDocument: {
            Statement: [{ Action: 'ecr:PutImage', Effect: 'Allow', Resource: Array.from({ length: arns }, (_, i) => ARN(i)) }],
            Version: '2012-10-17',
          },
          Roles: [{ Ref: 'Role' }],
        },
      },
    },
  });
  const document = (arns: number) => template(arns).Resources?.Policy.Properties?.PolicyDocument;
  // 85 ARNs: over 6,144 characters as indented text, under it without whitespace.
  expect(JSON.stringify(document(85)).length).toBeLessThan(LIMITS.managedPolicyChars);
  expect(JSON.stringify(document(85), undefined, 2).length).toBeGreaterThan(LIMITS.managedPolicyChars);
  expect(limitFindings([stack(template(85))])).toEqual([]);
  const compact = JSON.stringify(document(100)).length;
  expect(limitFindings([stack(template(100))])[0]).toMatch(new RegExp(`is ${compact} characters without whitespace`));
});
