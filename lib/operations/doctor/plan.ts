/**
 * What `ferry doctor` compares against: the synthesized output, never the config. cdk.out/ holds the
 * doctor plan (DOCTOR_PLAN_FILE, written by `npm run synth`), the cloud assembly manifest and one
 * template per stack; this module reads them, and resolves the few CloudFormation intrinsics ferry's
 * templates use, so a role's trust policy or a repository's settings can be compared with what AWS
 * answers. Anything else fails closed: the caller reports it as unchecked, naming the intrinsic.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../common/errors';
import { DOCTOR_PLAN_FILE, type DoctorPlan } from '../../contract';
import type { Json } from './compare';

export interface SynthStack {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly template: Json;
}

export interface Synthesized {
  readonly cdkOut: string;
  readonly plan: DoctorPlan;
  readonly stacks: ReadonlyMap<string, SynthStack>;
}

function readJson(file: string, what: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new InputError(`${file}: not found (${what}; run \`npm run synth\` first, or point --cdk-out at its output)`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not JSON (${(err as Error).message}); run \`npm run synth\` again`);
  }
}

/** Reads the doctor plan and every stack template the plan names from cdk.out/. */
export function readSynthesized(cdkOut: string): Synthesized {
  const plan = readJson(path.join(cdkOut, DOCTOR_PLAN_FILE), 'the doctor plan ferry synth writes') as DoctorPlan;
  if (plan.version !== 1)
    throw new InputError(`${path.join(cdkOut, DOCTOR_PLAN_FILE)}: version ${plan.version} is not one this ferry reads; run \`npm run synth\` again`);
  const manifest = readJson(path.join(cdkOut, 'manifest.json'), 'the cloud assembly manifest');
  const stacks = new Map<string, SynthStack>();
  for (const [id, artifact] of Object.entries<Json>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const env = /^aws:\/\/(\d{12})\/([a-z0-9-]+)$/.exec(artifact.environment ?? '');
    if (!env) continue;
    const name = artifact.properties?.stackName ?? id;
    const target = plan.targets.find((t) => t.stacks.includes(name));
    stacks.set(name, {
      name,
      account: env[1],
      region: env[2],
      partition: target?.partition ?? 'aws',
      template: readJson(path.join(cdkOut, artifact.properties.templateFile), `the template of ${name}`),
    });
  }
  for (const t of plan.targets)
    for (const s of t.stacks)
      if (!stacks.has(s)) throw new InputError(`${cdkOut}: the plan names stack ${s}, which the manifest lacks; run \`npm run synth\` again`);
  return { cdkOut, plan, stacks };
}

/** An intrinsic the doctor does not resolve: what it could not compare is reported, never guessed. */
export class Unresolvable extends Error {}

/** Resolves Ref, Fn::GetAtt (Arn) and Fn::Join over ferry's resource types and the pseudo parameters. */
export function resolver(stack: SynthStack, dnsSuffix: string): (value: Json) => Json {
  const pseudo: Record<string, string> = {
    'AWS::Partition': stack.partition,
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::URLSuffix': dnsSuffix,
    'AWS::StackName': stack.name,
  };
  const resources: Record<string, Json> = stack.template.Resources ?? {};
  const iam = `arn:${stack.partition}:iam::${stack.account}:`;
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref') {
      if (pseudo[value.Ref] !== undefined) return pseudo[value.Ref];
      const r = resources[value.Ref];
      const p = r?.Properties ?? {};
      if (r?.Type === 'AWS::IAM::Role') return resolve(p.RoleName);
      if (r?.Type === 'AWS::IAM::ManagedPolicy') return `${iam}policy${resolve(p.Path) ?? '/'}${resolve(p.ManagedPolicyName)}`;
      if (r?.Type === 'AWS::IAM::OIDCProvider') return `${iam}oidc-provider/${String(resolve(p.Url)).replace(/^https:\/\//, '')}`;
      if (r?.Type === 'AWS::ECR::Repository') return resolve(p.RepositoryName);
      throw new Unresolvable(`Ref ${value.Ref}${r ? ` (${r.Type})` : ''}`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attr] = value['Fn::GetAtt'];
      const r = resources[id];
      const p = r?.Properties ?? {};
      if (r?.Type === 'AWS::IAM::Role' && attr === 'Arn') return `${iam}role${resolve(p.Path) ?? '/'}${resolve(p.RoleName)}`;
      if (r?.Type === 'AWS::ECR::Repository' && attr === 'Arn')
        return `arn:${stack.partition}:ecr:${stack.region}:${stack.account}:repository/${resolve(p.RepositoryName)}`;
      if (r?.Type === 'AWS::IAM::OIDCProvider' && attr === 'Arn') return `${iam}oidc-provider/${String(resolve(p.Url)).replace(/^https:\/\//, '')}`;
      throw new Unresolvable(`Fn::GetAtt ${id}.${attr}`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [sep, parts] = value['Fn::Join'];
      return (resolve(parts) as string[]).join(sep);
    }
    const intrinsic = keys.find((k) => k.startsWith('Fn::'));
    if (intrinsic) throw new Unresolvable(intrinsic);
    return Object.fromEntries(keys.map((k) => [k, resolve(value[k])]));
  };
  return resolve;
}

/** The resources of one type in a template, with their logical IDs. */
export function resourcesOfType(template: Json, type: string): [string, Json][] {
  return Object.entries<Json>(template.Resources ?? {}).filter(([, r]) => r.Type === type);
}
