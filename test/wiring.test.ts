/**
 * The two apps agree on the identity model: for every target, the ServiceAccount the Argo
 * templates run as carries the ARN of a role CloudFormation creates, that role trusts exactly that
 * ServiceAccount, and a push step's destination role (`=<role>` on its --to) trusts what the step
 * presents: the same ServiceAccount's token (cluster-oidc) or a token minted by the source role
 * (outbound-federation, sub = the source role's ARN).
 *
 * ARNs are rebuilt from the synthesized templates (RoleName, Path, stack account and region), not
 * from the naming module both apps share, so a drift in either app fails here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsApp } from '../lib/aws/app';
import type { Target } from '../lib/config/model';
import { allTargets, pushTaskName, stackName } from '../lib/config/naming';
import { partitionOfRegion } from '../lib/config/partitions';
import { TEMPLATE, WORKFLOW_TEMPLATE } from '../lib/k8s/constants';
import { exampleConfig, type Json, manifests } from './k8s/helpers';

const config = exampleConfig();
const k8s = manifests(config);
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-wiring-'));
const assembly = createAwsApp(config, { outdir }).synth();
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

interface WebIdentityRole {
  arn: string;
  stack: string;
  subjects: string[];
  audiences: string[];
}

/** Every role of every stack that web identities may assume, with its ARN as IAM will write it. */
function webIdentityRoles(): WebIdentityRole[] {
  return allTargets(config).flatMap((target) => {
    const stack = assembly.getStackByName(stackName(target));
    const partition = partitionOfRegion(stack.environment.region)!.id;
    return Object.values(stack.template.Resources as Record<string, Json>)
      .filter((r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('sts:AssumeRoleWithWebIdentity'))
      .map((r) => {
        const props = r.Properties;
        expect(typeof props.RoleName).toBe('string');
        const conditions = props.AssumeRolePolicyDocument.Statement.map((s: Json) => s.Condition?.StringEquals ?? {});
        const claim = (suffix: string) =>
          conditions.flatMap((c: Record<string, string>) =>
            Object.entries(c)
              .filter(([k]) => k.endsWith(suffix))
              .map(([, v]) => v),
          );
        return {
          arn: `arn:${partition}:iam::${stack.environment.account}:role${props.Path ?? '/'}${props.RoleName}`,
          stack: stack.stackName,
          subjects: claim(':sub'),
          audiences: claim(':aud'),
        };
      });
  });
}

/** The template that runs as this target's identity: Kaniko for the build account, its push template otherwise. */
function podTemplate(target: Target): Json {
  return target.kind === 'build' ? k8s.template(WORKFLOW_TEMPLATE.kanikoBuild, TEMPLATE.build) : k8s.template(WORKFLOW_TEMPLATE.push, pushTaskName(target));
}

describe.each(allTargets(config).map((t) => [t.name, t] as const))('%s', (_name, target) => {
  // Read in beforeAll, not while jest collects the tests: an expect() that fails during
  // collection aborts the whole file instead of failing one named test.
  let roles: WebIdentityRole[];
  let serviceAccount: Json;
  let annotated: WebIdentityRole | undefined;
  beforeAll(() => {
    roles = webIdentityRoles();
    serviceAccount = k8s.ofKind('ServiceAccount').find((sa) => sa.metadata.name === podTemplate(target).serviceAccountName);
    annotated = roles.find((r) => r.arn === serviceAccount?.metadata.annotations['eks.amazonaws.com/role-arn']);
  });
  const subject = () => `system:serviceaccount:${serviceAccount.metadata.namespace}:${serviceAccount.metadata.name}`;

  test('its pod template runs as a ServiceAccount that is emitted', () => {
    expect(serviceAccount).toBeDefined();
  });

  test('that ServiceAccount carries the ARN of a role in the synthesized CloudFormation templates, in the build account', () => {
    expect(annotated).toBeDefined();
    expect(annotated!.arn).toMatch(new RegExp(`^arn:${config.build.partition.id}:iam::${config.build.account}:role/`));
  });

  test('that role trusts exactly this ServiceAccount, by namespace and name, for the annotated audience', () => {
    expect(annotated!.subjects).toEqual([subject()]);
    expect(annotated!.audiences).toEqual([serviceAccount.metadata.annotations['eks.amazonaws.com/audience']]);
  });

  if (target.kind === 'destination') {
    test(`the push step's destination role is in ${target.name}'s stack and trusts what the step presents (${target.trust})`, () => {
      const to: string = podTemplate(target).container.args[podTemplate(target).container.args.indexOf('--to') + 1];
      const destinationRole = roles.find((r) => r.arn === to.slice(to.lastIndexOf('=') + 1));
      expect(destinationRole).toBeDefined();
      expect(destinationRole!.stack).toBe(stackName(target));
      if (target.trust === 'outbound-federation') {
        // GetWebIdentityToken's sub is the calling role's ARN: the source role the ServiceAccount carries.
        expect(destinationRole!.subjects).toEqual([annotated!.arn]);
        expect(destinationRole!.audiences).toEqual([config.outboundFederation!.audience]);
      } else {
        expect(destinationRole!.subjects).toEqual([subject()]);
        expect(destinationRole!.audiences).toEqual([config.cluster.audience]);
      }
    });
  }
});
