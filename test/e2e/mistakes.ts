/**
 * Single mistakes of the trust table, each made in memory on a copy of what synth wrote (or of
 * the world outside it): the push proof (proof.test.ts) expects the push step to fail at the hop
 * the mistake belongs to, the doctor (doctor.test.ts) expects the doctor to name that hop.
 */
import type { Target } from '../../lib/config/model';
import { roleArn, roleName, sourceRoleArn, stackName } from '../../lib/config/naming';
import type { StackTemplate } from './iam-world';
import type { TestIssuer } from './issuers';
import { findStep } from './push-step';
import type { Stage } from './stage';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const MISTAKE_NAMES = [
  'wrong sub',
  'wrong aud',
  'wrong issuer',
  'wrong partition',
  'repository outside the policy',
  'mint audience outside the source role policy',
  'ServiceAccount with another role',
  'wrong cluster issuer',
  'build repository outside the source role policy',
  'destination repository missing',
] as const;
export type MistakeName = (typeof MISTAKE_NAMES)[number];

export interface Mistake {
  readonly stacks?: StackTemplate[];
  readonly dist?: Json[];
  readonly outboundIssuers?: Record<string, string>;
  /** The issuer that signs the pod's token (the cluster's real one), when not the configured one. */
  readonly clusterIssuer?: TestIssuer;
  /** The stand-in call that must be refused, and how (for the push proof). */
  readonly refused: { api: string; error: RegExp };
  /** What ferry's own failure message must name (the hop). */
  readonly says: RegExp;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** A copy of the synthesized templates with one stack's template changed. */
function withStack(stage: Stage, target: Target, change: (template: Json) => void): StackTemplate[] {
  const copy = clone(stage.stacks);
  const stack = copy.find((x) => x.stackName === stackName(target));
  if (!stack) throw new Error(`no stack ${stackName(target)} in cdk.out`);
  change(stack.template);
  return copy;
}

function resourcesOf(template: Json, type: string): Json[] {
  return Object.values<Json>(template.Resources).filter((r) => r.Type === type);
}

/** The StringEquals block of the trust statement of the role named `name`. */
function trustConditions(template: Json, name: string): Record<string, string> {
  const role = resourcesOf(template, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
  if (!role) throw new Error(`no role ${name} in the template`);
  const statement = role.Properties.AssumeRolePolicyDocument.Statement.find(
    (x: Json) => x.Action === 'sts:AssumeRoleWithWebIdentity' || x.Action?.includes?.('sts:AssumeRoleWithWebIdentity'),
  );
  return statement.Condition.StringEquals;
}

function conditionKey(conditions: Record<string, string>, claim: string): string {
  const key = Object.keys(conditions).find((k) => k.endsWith(`:${claim}`));
  if (!key) throw new Error(`the trust policy pins no ${claim}`);
  return key;
}

/** Every managed policy of a stack with `repository/<repository>"` pointing at another repository. */
function repositoryOutsidePolicies(stage: Stage, target: Target): StackTemplate[] {
  return withStack(stage, target, (t) => {
    for (const p of resourcesOf(t, 'AWS::IAM::ManagedPolicy')) {
      p.Properties.PolicyDocument = JSON.parse(
        JSON.stringify(p.Properties.PolicyDocument).split(`repository/${stage.repository}"`).join('repository/ferry/another-app"'),
      );
    }
  });
}

/** dist/ with the ServiceAccount of `destination`'s step annotated with another role. */
function withAnnotatedRole(stage: Stage, stepName: string, change: (role: string) => string): { dist: Json[]; role: string } {
  const copy = clone(stage.dist);
  const step = findStep(copy, stepName);
  const role = change(step.serviceAccount.metadata.annotations['eks.amazonaws.com/role-arn'] as string);
  for (const o of copy)
    if (o.kind === 'ServiceAccount' && o.metadata.name === step.serviceAccount.metadata.name && o.metadata.namespace === step.serviceAccount.metadata.namespace)
      o.metadata.annotations['eks.amazonaws.com/role-arn'] = role;
  return { dist: copy, role };
}

/**
 * One mistake against `destination`. `stepName` is the template whose ServiceAccount a
 * ServiceAccount mistake changes (the push or the doctor template: both run as the same account).
 */
export function mistake(stage: Stage, destination: Target, name: MistakeName, stepName: string): Mistake {
  const { config } = stage;
  const outbound = destination.trust === 'outbound-federation';
  const role = roleArn(destination);
  const assumeRefused = (error: RegExp) => ({ api: `AssumeRoleWithWebIdentity ${role}`, error });
  switch (name) {
    case 'wrong sub':
      // The destination role pins another subject than the one the token will carry.
      return {
        stacks: withStack(stage, destination, (t) => {
          const c = trustConditions(t, roleName(destination));
          c[conditionKey(c, 'sub')] = outbound
            ? sourceRoleArn(config, destination).replace(/[^/]+$/, 'ferry-pusher-someone-else')
            : c[conditionKey(c, 'sub')].replace(/[^:]+$/, 'ferry-pusher-someone-else');
        }),
        refused: assumeRefused(/AccessDenied.*:sub/),
        says: /assum/i,
      };
    case 'wrong aud':
      // cluster-oidc: the destination role's trust pins another audience than the ServiceAccount token carries.
      // outbound-federation: the destination's provider lists another client ID than the minted audience.
      if (!outbound) {
        return {
          stacks: withStack(stage, destination, (t) => {
            const c = trustConditions(t, roleName(destination));
            c[conditionKey(c, 'aud')] = 'sts.amazonaws.com.cn';
          }),
          refused: assumeRefused(/AccessDenied.*:aud/),
          says: /assum/i,
        };
      }
      return {
        stacks: withStack(stage, destination, (t) => {
          const provider = resourcesOf(t, 'AWS::IAM::OIDCProvider').find((p) => p.Properties.Url === config.outboundFederation!.issuerUrl);
          provider.Properties.ClientIdList = ['sts.amazonaws.com.cn'];
        }),
        refused: assumeRefused(/InvalidIdentityToken: Incorrect token audience/),
        says: /assum/i,
      };
    case 'wrong issuer':
      // cluster-oidc: the destination account registers another cluster's issuer.
      // outbound-federation: the build account's real issuer is not the configured one.
      if (!outbound) {
        return {
          stacks: withStack(stage, destination, (t) => {
            const provider = resourcesOf(t, 'AWS::IAM::OIDCProvider').find((p) => p.Properties.Url === config.cluster.issuerUrl);
            provider.Properties.Url = config.cluster.issuerUrl.replace(/[^/]+$/, 'OTHERCLUSTER00000000000000000000');
          }),
          refused: assumeRefused(/InvalidIdentityToken: No OpenIDConnect provider found/),
          says: /assum/i,
        };
      }
      return {
        outboundIssuers: { [config.build.account]: stage.otherOutboundIssuer.url },
        refused: assumeRefused(/InvalidIdentityToken: No OpenIDConnect provider found/),
        says: /assum/i,
      };
    case 'wrong partition': {
      // The ServiceAccount names its role in another partition than the STS it must use.
      const { dist, role: wrong } = withAnnotatedRole(stage, stepName, (r) =>
        r.replace(/^arn:[a-z-]+:/, r.startsWith('arn:aws:') ? 'arn:aws-us-gov:' : 'arn:aws:'),
      );
      return { dist, refused: { api: `AssumeRoleWithWebIdentity ${wrong}`, error: /AccessDenied.*partition/ }, says: /assum/i };
    }
    case 'ServiceAccount with another role': {
      // The ServiceAccount names another role of the same account, which does not trust it.
      const { dist, role: other } = withAnnotatedRole(stage, stepName, (r) => r.replace(/[^/]+$/, 'ferry-pusher-someone-else'));
      return { dist, refused: { api: `AssumeRoleWithWebIdentity ${other}`, error: /AccessDenied/ }, says: /assum/i };
    }
    case 'wrong cluster issuer':
      // build.yaml names another cluster's issuer than the one that signs the pod's tokens.
      return {
        clusterIssuer: stage.otherClusterIssuer,
        refused: { api: `AssumeRoleWithWebIdentity ${sourceRoleArn(config, destination)}`, error: /InvalidIdentityToken/ },
        says: /assum/i,
      };
    case 'mint audience outside the source role policy':
      // outbound-federation only: the source role may mint tokens for another audience than ferry asks for.
      return {
        stacks: withStack(stage, config.build, (t) => {
          for (const p of [...resourcesOf(t, 'AWS::IAM::ManagedPolicy'), ...resourcesOf(t, 'AWS::IAM::Policy')]) {
            for (const st of p.Properties.PolicyDocument.Statement) {
              if ([st.Action].flat().includes('sts:GetWebIdentityToken'))
                st.Condition = JSON.parse(JSON.stringify(st.Condition).split(`"${config.outboundFederation!.audience}"`).join('"sts.amazonaws.com.cn"'));
            }
          }
        }),
        refused: { api: `GetWebIdentityToken ${sourceRoleArn(config, destination)}`, error: /AccessDenied.*sts:IdentityTokenAudience/ },
        says: /mint|GetWebIdentityToken|web identity token/i,
      };
    case 'repository outside the policy':
      // The destination role may push only to another repository.
      return {
        stacks: repositoryOutsidePolicies(stage, destination),
        refused: {
          api: 'registry',
          error: new RegExp(`403 DENIED: User: .* is not authorized to perform: ecr:\\w+ on resource: .*repository/${stage.repository}`),
        },
        says: /denied|403/i,
      };
    case 'build repository outside the source role policy':
      // The source role (in the build account) may read only another build repository.
      return {
        stacks: repositoryOutsidePolicies(stage, config.build),
        refused: { api: 'registry', error: new RegExp(`403 DENIED: .*repository/${stage.repository}`) },
        says: /denied|403/i,
      };
    case 'destination repository missing':
      // The destination stack was not deployed with this repository.
      return {
        stacks: withStack(stage, destination, (t) => {
          for (const [id, r] of Object.entries<Json>(t.Resources))
            if (r.Type === 'AWS::ECR::Repository' && r.Properties.RepositoryName === stage.repository) delete t.Resources[id];
        }),
        refused: { api: 'registry', error: /404 NAME_UNKNOWN/ },
        says: /NAME_UNKNOWN|does not exist/i,
      };
  }
}
