/** IAM descriptions stay within IAM's 1,000 characters however many roles share a policy. */
import { IAM_DESCRIPTION_MAX_CHARS } from '../../lib/aws/policy-documents';
import { sharedPolicyDescription } from '../../lib/aws/target-stack';

const roles = (n: number) => Array.from({ length: n }, (_, i) => `ferry-source-gov-${String(i + 1).padStart(3, '0')}`);

test('a policy shared by a few roles names them', () => {
  expect(sharedPolicyDescription(roles(3), 'part 1 of 2')).toBe(
    'Repository permissions that the roles ferry-source-gov-001, ferry-source-gov-002, ferry-source-gov-003 all need, on exact repository ARNs (part 1 of 2).',
  );
});

test('a policy shared by 150 roles (150 destinations) counts them instead, within the limit', () => {
  const description = sharedPolicyDescription(roles(150), 'part 2 of 3');
  expect(description).toBe('Repository permissions that the 150 roles it is attached to all need, on exact repository ARNs (part 2 of 3).');
  expect(description.length).toBeLessThanOrEqual(IAM_DESCRIPTION_MAX_CHARS);
});

test('the names are kept up to the limit exactly', () => {
  // Bounded: with the rule broken the names never stop fitting, and the test must fail, not hang.
  let n = 1;
  while (n < 1000 && sharedPolicyDescription(roles(n + 1), 'part 1 of 1').includes('ferry-source')) n++;
  expect(sharedPolicyDescription(roles(n), 'part 1 of 1').length).toBeLessThanOrEqual(IAM_DESCRIPTION_MAX_CHARS);
  expect(`Repository permissions that the roles ${roles(n + 1).join(', ')} all need, on exact repository ARNs (part 1 of 1).`.length).toBeGreaterThan(
    IAM_DESCRIPTION_MAX_CHARS,
  );
});
