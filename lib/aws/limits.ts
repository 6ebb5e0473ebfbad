/**
 * AWS's published limits, checked on the synthesized templates (not on the construct tree), so
 * that what synth writes is what deploys: whatever built a template, a template over a limit is
 * refused here with one line per finding, naming the stack, the resource, the limit and the fix.
 *
 * Sources: CloudFormation quotas (resources, outputs and parameters per stack; template body size
 * from S3 and inline), IAM and STS quotas (managed policy document size without whitespace,
 * managed policies per role, inline policy size per role, role trust policy size), and ECR's
 * SetRepositoryPolicy (`policyText` of at most 10,240 characters).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { stringify } from 'yaml';
import { UserFacingError } from '../cli-errors';
import { MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARS, policyChars, REPOSITORY_POLICY_MAX_CHARS } from './policy-documents';
import { INLINE_TEMPLATE_LIMIT_BYTES, S3_TEMPLATE_LIMIT_BYTES } from './synthesizer';

export const LIMITS = {
  resourcesPerStack: 500,
  outputsPerStack: 200,
  parametersPerStack: 200,
  templateBytesS3: S3_TEMPLATE_LIMIT_BYTES,
  templateBytesInline: INLINE_TEMPLATE_LIMIT_BYTES,
  managedPolicyChars: MANAGED_POLICY_MAX_CHARS,
  managedPoliciesPerRole: MANAGED_POLICIES_PER_ROLE,
  inlinePolicyCharsPerRole: 10_240,
  trustPolicyChars: 2_048,
  repositoryPolicyChars: REPOSITORY_POLICY_MAX_CHARS,
} as const;

/** One synthesized stack as CloudFormation will receive it. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: Template;
  /** Sent inline (TemplateBody, 51,200 bytes) rather than uploaded to S3 (1,000,000 bytes). */
  readonly inline: boolean;
  /** The bytes CloudFormation receives: the template file when uploaded, its YAML form when inline. */
  readonly bytes: number;
}

interface Resource {
  readonly Type?: string;
  readonly Properties?: Record<string, any>;
}

export interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
}

/** Every finding, one line each; empty when every template is within every limit. */
export function limitFindings(stacks: readonly StackTemplate[]): string[] {
  return stacks.flatMap((stack) => [...stackFindings(stack), ...iamFindings(stack, stacks), ...repositoryFindings(stack)]);
}

/** Throws the findings as one user-facing error (exit 2) when there are any. */
export function assertWithinLimits(stacks: readonly StackTemplate[]): void {
  const findings = limitFindings(stacks);
  if (findings.length > 0) throw new UserFacingError(findings.join('\n'));
}

/** The stacks of a cloud assembly, measured as CloudFormation receives them. */
export function assemblyTemplates(assembly: CloudAssembly): StackTemplate[] {
  return assembly.stacks.map((artifact) => {
    const file = path.join(assembly.directory, artifact.templateFile);
    const text = fs.readFileSync(file, 'utf8');
    const template = JSON.parse(text) as Template;
    // Without a template asset (synthesizer: cli-credentials) the CDK CLI sends the template inline.
    const inline = artifact.stackTemplateAssetObjectUrl === undefined;
    return { stackName: artifact.stackName, template, inline, bytes: Buffer.byteLength(inline ? stringify(template) : text) };
  });
}

function stackFindings({ stackName, template, inline, bytes }: StackTemplate): string[] {
  const findings: string[] = [];
  const count = (section: object | undefined) => Object.keys(section ?? {}).length;
  const resources = count(template.Resources);
  if (resources > LIMITS.resourcesPerStack)
    findings.push(
      `${stackName}: ${resources} resources, over CloudFormation's ${LIMITS.resourcesPerStack} per stack (configure fewer repositories for this target, or report it: ferry splits repositories into further stacks itself)`,
    );
  for (const [section, limit] of [
    ['Outputs', LIMITS.outputsPerStack],
    ['Parameters', LIMITS.parametersPerStack],
  ] as const) {
    const n = count(template[section]);
    if (n > limit)
      findings.push(
        `${stackName}: ${n} ${section.toLowerCase()}, over CloudFormation's ${limit} per stack (remove ${section.toLowerCase()} added to the stack)`,
      );
  }
  const max = inline ? LIMITS.templateBytesInline : LIMITS.templateBytesS3;
  if (bytes > max)
    findings.push(
      inline
        ? `${stackName}: the template is ${bytes} bytes, over CloudFormation's ${max}-byte limit for templates sent inline (synthesizer: cli-credentials); set synthesizer: bootstrapped for this target and run cdk bootstrap in its account, or configure fewer repositories`
        : `${stackName}: the template is ${bytes} bytes, over CloudFormation's ${max}-byte limit for templates uploaded to S3 (configure fewer repositories for this target)`,
    );
  return findings;
}

/** A role's name for messages: its physical name, else its logical ID. */
function describe(logicalId: string, resource: Resource, nameKey: string): string {
  const name = resource.Properties?.[nameKey];
  return typeof name === 'string' ? `${logicalId} (${name})` : logicalId;
}

function iamFindings({ stackName, template }: StackTemplate, all: readonly StackTemplate[]): string[] {
  const resources = Object.entries(template.Resources ?? {});
  const findings: string[] = [];
  const attached = new Map<string, number>();
  const inlineChars = new Map<string, number>();
  const roles = resources.filter(([, r]) => r.Type === 'AWS::IAM::Role');

  for (const [id, r] of roles) {
    attached.set(id, (r.Properties?.ManagedPolicyArns ?? []).length);
    inlineChars.set(
      id,
      (r.Properties?.Policies ?? []).reduce((sum: number, p: any) => sum + policyChars(p.PolicyDocument), 0),
    );
    const trust = policyChars(r.Properties?.AssumeRolePolicyDocument ?? {});
    if (trust > LIMITS.trustPolicyChars)
      findings.push(
        `${stackName}: role ${describe(id, r, 'RoleName')} has a trust policy of ${trust} characters, over IAM's default quota of ${LIMITS.trustPolicyChars} (ask AWS for "Role trust policy length" up to 4,096, or shorten the issuer, namespace or names)`,
      );
  }
  for (const [id, r] of resources) {
    if (r.Type === 'AWS::IAM::ManagedPolicy') {
      const chars = policyChars(r.Properties?.PolicyDocument ?? {});
      if (chars > LIMITS.managedPolicyChars)
        findings.push(
          `${stackName}: managed policy ${describe(id, r, 'ManagedPolicyName')} is ${chars} characters without whitespace, over IAM's ${LIMITS.managedPolicyChars} per policy document (split its statements into further policies)`,
        );
      for (const role of refs(r.Properties?.Roles)) attached.set(role, (attached.get(role) ?? 0) + 1);
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::RolePolicy') {
      const chars = policyChars(r.Properties?.PolicyDocument ?? {});
      for (const role of [...refs(r.Properties?.Roles), ...refs([r.Properties?.RoleName])]) inlineChars.set(role, (inlineChars.get(role) ?? 0) + chars);
    }
  }
  for (const [id, r] of roles) {
    const n = attached.get(id) ?? 0;
    if (n > LIMITS.managedPoliciesPerRole)
      findings.push(
        `${stackName}: role ${describe(id, r, 'RoleName')} has ${n} managed policies attached, over IAM's default quota of ${LIMITS.managedPoliciesPerRole} per role (ask AWS for "Managed policies per role" up to 20, or grant through repository policies)`,
      );
    const chars = inlineChars.get(id) ?? 0;
    if (chars > LIMITS.inlinePolicyCharsPerRole)
      findings.push(
        `${stackName}: role ${describe(id, r, 'RoleName')} has ${chars} characters of inline policy, over IAM's ${LIMITS.inlinePolicyCharsPerRole} per role (move the statements into managed policies)`,
      );
  }
  // Policies of other stacks attached by role name count too.
  for (const [id, r] of roles) {
    const name = r.Properties?.RoleName;
    if (typeof name !== 'string') continue;
    const elsewhere = all
      .filter((s) => s.stackName !== stackName)
      .flatMap((s) => Object.values(s.template.Resources ?? {}))
      .filter((p) => p.Type === 'AWS::IAM::ManagedPolicy' && (p.Properties?.Roles ?? []).includes(name)).length;
    const n = (attached.get(id) ?? 0) + elsewhere;
    if (elsewhere > 0 && n > LIMITS.managedPoliciesPerRole)
      findings.push(
        `${stackName}: role ${describe(id, r, 'RoleName')} has ${n} managed policies attached from several stacks, over IAM's default quota of ${LIMITS.managedPoliciesPerRole} per role`,
      );
  }
  return findings;
}

/** The logical IDs a list of `{ Ref }` names. */
function refs(list: unknown): string[] {
  return (Array.isArray(list) ? list : []).flatMap((x) =>
    x && typeof x === 'object' && typeof (x as { Ref?: unknown }).Ref === 'string' ? [(x as { Ref: string }).Ref] : [],
  );
}

function repositoryFindings({ stackName, template }: StackTemplate): string[] {
  return Object.entries(template.Resources ?? {}).flatMap(([id, r]) => {
    if (r.Type !== 'AWS::ECR::Repository' || r.Properties?.RepositoryPolicyText === undefined) return [];
    const text = r.Properties.RepositoryPolicyText;
    const chars = (typeof text === 'string' ? text : JSON.stringify(text)).length;
    if (chars <= LIMITS.repositoryPolicyChars) return [];
    return [
      `${stackName}: repository ${describe(id, r, 'RepositoryName')} has a repository policy of ${chars} characters, over ECR's ${LIMITS.repositoryPolicyChars} (it names too many roles: configure fewer destinations in this account)`,
    ];
  });
}
