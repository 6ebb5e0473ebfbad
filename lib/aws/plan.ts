/**
 * The doctor plan (lib/contract.ts DoctorPlan): written by `npm run synth` into cdk.out/ next to the
 * templates, so that `ferry doctor` knows which stacks belong to which target, which profile reads
 * them and which part each role plays, without loading the config or the CDK.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import type { FerryConfig, Target } from '../config/model';
import * as naming from '../config/naming';
import { DOCTOR_PLAN_FILE, type DoctorPlan, type DoctorPlanTarget, type DoctorRoleKind } from '../contract';

/**
 * Every stack of the app that deploys into this target's account and region, the target's own
 * `ferry-<name>` first: the one place that says which stacks a target has.
 */
export function stacksOfTarget(app: App, target: Target): string[] {
  const names = app.node.children
    .filter((c): c is Stack => Stack.isStack(c) && c.account === target.account && c.region === target.region)
    .map((s) => s.stackName);
  const first = naming.stackName(target);
  return [first, ...names.filter((n) => n !== first).sort()];
}

/** The part every role of this target's stacks plays, by ARN. */
function rolesOf(config: FerryConfig, target: Target): Record<string, DoctorRoleKind> {
  const roles: Record<string, DoctorRoleKind> = { [naming.roleArn(target)]: target.kind === 'build' ? 'builder-role' : 'destination-role' };
  if (target.kind === 'build')
    for (const d of config.destinations) if (naming.sourceRoleInBuildStack(config, d)) roles[naming.sourceRoleArn(config, d)] = 'source-role';
  if (naming.accountOwner(config, target) === target) roles[naming.doctorRoleArn(target)] = 'doctor-role';
  return roles;
}

export function doctorPlan(config: FerryConfig, app: App): DoctorPlan {
  const targets = naming.allTargets(config).map(
    (t): DoctorPlanTarget => ({
      name: t.name,
      kind: t.kind,
      account: t.account,
      region: t.region,
      partition: t.partition.id,
      fips: t.fips,
      trust: t.trust,
      ...(t.profile ? { profile: t.profile } : {}),
      source: t.source,
      stacks: stacksOfTarget(app, t),
      roles: rolesOf(config, t),
    }),
  );
  const outbound = config.outboundFederation && config.destinations.some((d) => d.trust === 'outbound-federation');
  return {
    version: 1,
    configDir: config.dir,
    targets,
    cluster: { issuerUrl: config.cluster.issuerUrl, namespace: config.cluster.namespace, audience: config.cluster.audience },
    ...(outbound && config.outboundFederation
      ? {
          outboundFederation: {
            issuerUrl: config.outboundFederation.issuerUrl,
            audience: config.outboundFederation.audience,
            account: config.build.account,
            target: config.build.name,
          },
        }
      : {}),
  };
}

export function writeDoctorPlan(config: FerryConfig, app: App, cdkOut: string): void {
  fs.writeFileSync(path.join(cdkOut, DOCTOR_PLAN_FILE), `${JSON.stringify(doctorPlan(config, app), null, 2)}\n`);
}
