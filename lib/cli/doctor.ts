/**
 * `ferry doctor`: read-only, from a workstation. Compares every target's account (with that
 * target's AWS profile) and, with a kubeconfig, the cluster with what `npm run synth` wrote into
 * cdk.out/ and dist/, and names for every hop what was expected, what was found and the fix.
 * Exit 0 when everything holds, 2 on a mismatch, 1 when something could not be checked.
 */
import { InputError } from '../common/errors';

import { runDoctor } from '../operations/doctor/doctor';
import { doctorExitCode, findingsJson, renderFindings } from '../operations/doctor/findings';
import { readSynthesized } from '../operations/doctor/plan';
import type { Env } from '../registry/authn';
import { parseCommandLine } from './options';
import { type CliContext, type Command, PROCESS_CONTEXT, runCommand } from './shared';

/** FERRY_PROFILES="build=p1,govcloud=p2": the profiles of a CI job, without flags. */
export const PROFILES_ENV = 'FERRY_PROFILES';
const DEFAULT_TIMEOUT_SECONDS = 300;

export const USAGE = `Usage: ferry doctor [options]

Read only. Checks every target's AWS account and, with --kubeconfig or --context, the build
cluster against what \`npm run synth\` wrote into cdk.out/ and dist/. Each finding names the hop,
what was expected, what was found and the command that fixes it (docs/doctor.md).

Options:
  --profile <target>=<profile>  the AWS CLI profile for a target's account; repeatable
                                (also ${PROFILES_ENV}="build=p1,govcloud=p2", or profile: in the
                                target's config file); a target without one is skipped
  --target <name>               check only this target; repeatable
  --cdk-out <dir>               the synthesized CloudFormation (default cdk.out)
  --dist <dir>                  the synthesized Kubernetes YAML (default dist)
  --kubeconfig <path>           check the cluster with kubectl and this kubeconfig
  --context <name>              the kubeconfig context to use
  --timeout <seconds>           deadline of the whole run (default ${DEFAULT_TIMEOUT_SECONDS})
  --json                        write every finding as JSON to stdout
  -h, --help                    show this help

From inside the cluster, \`ferry doctor path\` walks one destination's credential path as its push
step does (what the ferry-doctor WorkflowTemplate runs; see ferry doctor path --help).

Exit codes: 0 everything holds (skipped targets included), 2 something does not hold,
1 something could not be checked (network, throttling, a denied read).`;

const OPTIONS = {
  profile: { type: 'string', multiple: true },
  target: { type: 'string', multiple: true },
  'cdk-out': { type: 'string' },
  dist: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface DoctorArgs {
  readonly cdkOut: string;
  readonly dist: string;
  readonly profiles: Map<string, string>;
  readonly targets: string[];
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly timeoutSeconds: number;
  readonly json: boolean;
}

function pairs(values: readonly string[], what: string): [string, string][] {
  return values.map((v) => {
    const m = /^([a-z][a-z0-9-]*)=(\S+)$/.exec(v.trim());
    if (!m) throw new InputError(`${what} "${v}" is not <target>=<profile>`);
    return [m[1], m[2]];
  });
}

function parse(argv: readonly string[], env: Env): DoctorArgs | 'help' {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'ferry doctor');
  if (values.help) return 'help';
  if (positionals.length) throw new InputError(`unexpected argument "${positionals[0]}" (see ferry doctor --help)`);
  const timeout = values.timeout ?? String(DEFAULT_TIMEOUT_SECONDS);
  const timeoutSeconds = Number(timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600)
    throw new InputError(`--timeout must be a whole number from 1 to 3600, got "${timeout}"`);
  const fromEnv = (env[PROFILES_ENV] ?? '').split(',').filter((s) => s.trim() !== '');
  return {
    cdkOut: values['cdk-out'] ?? 'cdk.out',
    dist: values.dist ?? 'dist',
    // Flags win over the environment (later entries of the map win).
    profiles: new Map([...pairs(fromEnv, PROFILES_ENV), ...pairs(values.profile ?? [], '--profile')]),
    targets: values.target ?? [],
    kubeconfig: values.kubeconfig,
    context: values.context,
    timeoutSeconds,
    json: values.json ?? false,
  };
}

const DOCTOR: Command<DoctorArgs> = {
  name: 'ferry doctor',
  usage: USAGE,
  parse,
  async run(args, ctx, progress) {
    const synth = readSynthesized(args.cdkOut);
    const names = synth.plan.targets.map((t) => t.name);
    for (const name of [...args.targets, ...args.profiles.keys()])
      if (!names.includes(name)) throw new InputError(`no target "${name}" in ${args.cdkOut} (targets: ${names.join(', ')})`);
    const profiles = new Map(synth.plan.targets.flatMap((t) => (t.profile ? [[t.name, t.profile] as const] : [])));
    for (const [name, profile] of args.profiles) profiles.set(name, profile);
    const findings = await runDoctor({
      synth,
      profiles,
      targets: args.targets,
      dist: args.dist,
      kubeconfig: args.kubeconfig,
      context: args.context,
      timeoutSeconds: args.timeoutSeconds,
      log: (line) => progress.log(line),
    });
    if (args.json) ctx.stdout.write(`${JSON.stringify(findingsJson(findings), null, 2)}\n`);
    else ctx.stdout.write(`${renderFindings(findings).join('\n')}\n`);
    const { counts } = findingsJson(findings);
    progress.log(`ferry doctor: ${counts.ok} ok, ${counts.mismatch} mismatch, ${counts.unchecked} unchecked, ${counts.skipped} skipped`);
    return doctorExitCode(findings);
  },
};

export function main(argv: string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(DOCTOR, argv, ctx);
}
