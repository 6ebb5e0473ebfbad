/**
 * `ferry doctor path <build-ref>[=<role-arn>] --to <ref>=<role-arn> ...`: the in-cluster doctor.
 * Takes what the push step takes (the build repository, the destination with its role, the trust
 * options), walks the same credential path hop by hop without writing anything, and prints one
 * line per hop. Exit codes of every doctor (findings.ts): 0 every hop holds, 2 a hop does not hold
 * (a retry cannot fix it), 1 a hop could not be checked (network, throttling).
 */
import { InputError } from '../common/errors';
import { doctorExitCode, findingsJson, renderFindings } from '../operations/doctor/findings';
import { checkPath, PATH_HOPS, type PathExpectations } from '../operations/doctor/path';
import { type Env, parseTrust, TRUST_OPTIONS, TRUST_USAGE, type TrustSettings } from '../registry/authn';
import type { Progress } from '../registry/progress';
import { COMMON_OPTIONS, COMMON_USAGE, type CommonSettings, parseCommandLine, parseCommon } from './options';
import { type CliContext, type Command, checkDestinationRoles, PROCESS_CONTEXT, parseDestination, type RoleRef, runCommand, withRun } from './shared';

export const USAGE = `Usage: ferry doctor path <build-ref>[=<role-arn>] --to <ref>=<role-arn> [options]

Walks the credential path of a push step from inside its pod, hop by hop, with the code the
push runs, and writes nothing. The ferry-doctor WorkflowTemplate runs it once per destination,
as that destination's push ServiceAccount, with the push step's arguments.

Hops, in order (${PATH_HOPS.join(', ')}):
  pod-token             AWS_WEB_IDENTITY_TOKEN_FILE: readable, unexpired; its iss, sub and aud
                        printed and compared with --expect-issuer, --expect-subject, --expect-audience
  source-role           AWS_ROLE_ARN is the role on <build-ref>, and STS GetCallerIdentity with the
                        default credentials (IRSA) answers a session of it
  build-registry        ECR login at the build registry, GET tags/list and HEAD one manifest
  mint                  outbound-federation only: GetWebIdentityToken; the token's iss, sub, aud
                        printed (never the token), iss compared with --expect-outbound-issuer,
                        and which sub spelling STS used (role ARN with or without its path)
  destination-role      AssumeRoleWithWebIdentity of the --to role with the pod's or the minted token
  ecr-login             GetAuthorizationToken at the destination, as the destination role
  destination-registry  GET tags/list and HEAD one manifest of the destination repository
It stops at the first hop that does not hold; later hops are reported as skipped.

<build-ref>  host/repository of the build registry (a tag or digest is ignored)
=<role-arn>  on <build-ref>: the role the pod must run as (its ServiceAccount's
             eks.amazonaws.com/role-arn); on --to: the destination's pusher role
<ref>        host/repository of the destination (a tag or digest is ignored)

Options:
  --to <ref>=<role-arn>         the destination (exactly one)
  --name <name>                 the destination's name in the findings (default: the --to host)
  --expect-issuer <url>         the pod token's iss (build.yaml cluster.issuerUrl)
  --expect-audience <aud>       an aud of the pod token (build.yaml cluster.audience)
  --expect-subject <sub>        the pod token's sub, system:serviceaccount:<namespace>:<name>
  --expect-outbound-issuer <url>  the minted token's iss (build.yaml outboundFederation.issuerUrl)
  --created-on-push <prefix>    a destination repository under this prefix (e.g. team-a/) that does
                                not exist yet is fine: the first push creates it (a repository
                                creation template covers the prefix); repeatable
${COMMON_USAGE}

${TRUST_USAGE}

Output: one line per hop on stdout (ok, MISMATCH with expected/found/fix, UNCHECKED,
skipped); --json prints the findings document instead. AWS endpoint lines go to stderr.

Exit codes: 0 every hop holds; 2 a hop does not hold (the line names the fix); 1 a hop could
not be checked (network, throttling): run it again.`;

interface PathSettings extends CommonSettings {
  readonly name: string;
  readonly build: RoleRef;
  readonly destination: RoleRef & { readonly roleArn: string };
  readonly trust: TrustSettings;
  readonly expect: PathExpectations;
  readonly createdOnPush: readonly string[];
}

const PATH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...TRUST_OPTIONS,
  to: { type: 'string', multiple: true },
  name: { type: 'string' },
  'expect-issuer': { type: 'string' },
  'expect-audience': { type: 'string' },
  'expect-subject': { type: 'string' },
  'expect-outbound-issuer': { type: 'string' },
  'created-on-push': { type: 'string', multiple: true },
} as const;

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && !/^\S+$/.test(value)) throw new InputError(`${flag} "${value}" must be one non-empty word`);
  return value;
}

function parsePathArgs(argv: readonly string[], env: Env): PathSettings | 'help' {
  const { values, positionals } = parseCommandLine(argv, PATH_OPTIONS, 'ferry doctor path');
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new InputError(`expected one build repository, got ${positionals.length} (see ferry doctor path --help)`);
  if (values.to?.length !== 1) throw new InputError('name exactly one destination with --to <ref>=<role-arn> (see ferry doctor path --help)');
  const trust = parseTrust(values, env);
  const destination = parseDestination(values.to[0], env);
  if (!destination.roleArn) throw new InputError(`--to ${values.to[0]}: name the destination's pusher role, --to <ref>=<role-arn>`);
  checkDestinationRoles(trust, [destination]);
  return {
    ...parseCommon(values, env),
    name: nonEmpty('--name', values.name) ?? destination.ref.registry,
    build: parseDestination(positionals[0], env, 'build repository'),
    destination: { ...destination, roleArn: destination.roleArn },
    trust,
    expect: {
      clusterIssuer: nonEmpty('--expect-issuer', values['expect-issuer']),
      clusterAudience: nonEmpty('--expect-audience', values['expect-audience']),
      subject: nonEmpty('--expect-subject', values['expect-subject']),
      outboundIssuer: nonEmpty('--expect-outbound-issuer', values['expect-outbound-issuer']),
    },
    createdOnPush: (values['created-on-push'] ?? []).map((p) => (p.endsWith('/') ? p : `${p}/`)),
  };
}

function doctorPath(settings: PathSettings, ctx: CliContext, progress: Progress): Promise<number> {
  return withRun(settings, settings.trust, ctx, progress, async ({ deadline, transport }) => {
    const findings = await checkPath(
      {
        target: settings.name,
        build: settings.build,
        destination: settings.destination,
        trust: settings.trust,
        expect: settings.expect,
        createdOnPush: settings.createdOnPush,
      },
      { env: ctx.env, transport, deadline, log: (line) => progress.log(line) },
    );
    ctx.stdout.write(settings.json ? `${JSON.stringify(findingsJson(findings), null, 2)}\n` : `${renderFindings(findings).join('\n')}\n`);
    return doctorExitCode(findings);
  });
}

export const DOCTOR_PATH: Command<PathSettings> = { name: 'ferry doctor path', usage: USAGE, parse: parsePathArgs, run: doctorPath };

export function main(argv: readonly string[], ctx: CliContext = PROCESS_CONTEXT): Promise<number> {
  return runCommand(DOCTOR_PATH, argv, ctx);
}
