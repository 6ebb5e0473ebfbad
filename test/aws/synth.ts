/** Shared by the AWS tests: synthesize the app once, and build config variants in a temp dir. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { parseDocument } from 'yaml';
import { createAwsApp } from '../../lib/aws/app';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig, Target } from '../../lib/config/model';
import { stackName } from '../../lib/config/naming';
import { copyExampleConfig } from '../support/config-fixture';

export interface Synthesized {
  readonly config: FerryConfig;
  readonly app: App;
  readonly assembly: CloudAssembly;
  /** The synthesized template, as CloudFormation will receive it. */
  template(target: Target): Template;
  /** The same template as plain JSON. */
  json(target: Target): Record<string, any>;
}

export function synthesize(config: FerryConfig): Synthesized {
  const app = createAwsApp(config);
  const assembly = app.synth();
  const json = (target: Target) => assembly.getStackByName(stackName(target)).template as Record<string, any>;
  return { config, app, assembly, json, template: (target) => Template.fromJSON(json(target)) };
}

/** A copy of the example config with some fields changed: `{ 'build.yaml': { rolePath: '/x/' } }`. */
export function configVariant(changes: Record<string, Record<string, unknown>>): string {
  const dir = copyExampleConfig();
  for (const [name, fields] of Object.entries(changes)) {
    const doc = parseDocument(fs.readFileSync(path.join(dir, name), 'utf8'));
    for (const [field, value] of Object.entries(fields))
      doc.setIn(
        field.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
        value,
      );
    fs.writeFileSync(path.join(dir, name), doc.toString());
  }
  return dir;
}

export function loadVariant(changes: Record<string, Record<string, unknown>>): { config: FerryConfig; dir: string } {
  const dir = configVariant(changes);
  return { config: loadConfig(dir), dir };
}

/**
 * Every (action, resource) pair the template's identity policies allow, as `action resource` strings;
 * with `policyName`, only those of that customer-managed policy.
 */
export function allowedGrants(template: Template, policyName?: string): string[] {
  const managed = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(
    (r) => policyName === undefined || r.Properties.ManagedPolicyName === policyName,
  );
  if (policyName !== undefined && managed.length !== 1) throw new Error(`expected one managed policy named ${policyName}, found ${managed.length}`);
  const documents = [
    ...managed.map((r) => r.Properties.PolicyDocument),
    ...(policyName === undefined ? Object.values(template.findResources('AWS::IAM::Policy')).map((r) => r.Properties.PolicyDocument) : []),
    ...(policyName === undefined
      ? Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) => (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument))
      : []),
  ];
  const grants: string[] = [];
  for (const statement of documents.flatMap((d) => d.Statement)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of [statement.Action].flat()) {
      for (const resource of [statement.Resource].flat()) grants.push(`${action} ${typeof resource === 'string' ? resource : JSON.stringify(resource)}`);
    }
  }
  return grants.sort();
}
