/**
 * The facts the ferry CLI, its entry points (bin/) and the Argo templates (lib/k8s) must agree
 * on, in one module that imports only package.json: ferry's version, the exit codes the retry
 * policies read, and the push step's deadline from which the CLI's default --timeout is derived.
 */
// The compiled CLI reads it from build/package.json, which tsc emits next to build/lib and
// build/bin: the pusher image copies the whole build/ directory, so the version travels with it.
import { version } from '../package.json';

/** ferry's version: package.json's, the one source (`ferry --version`, the User-Agent, the pusher image tag). */
export const FERRY_VERSION: string = version;

/**
 * The User-Agent of every request ferry makes, to registries and (appended to the SDK's own)
 * to AWS APIs: `ferry/<version>`, so registry and CloudTrail logs show which client called.
 */
export const USER_AGENT = `ferry/${FERRY_VERSION}`;

/** ferry's exit codes: scripts and the Argo retry policy rely on them. */
export const EXIT = {
  /** Every destination holds the image. */
  ok: 0,
  /** Some destination failed in a way a later attempt may fix (network, 5xx, throttling, timeouts, authorization). */
  destinationFailed: 1,
  /** Nothing a retry can fix: bad input, flags or configuration, TLS or plain-HTTP refusal, immutable tag conflict, malformed archive. */
  badInput: 2,
} as const;

/**
 * activeDeadlineSeconds of the push step in the Argo templates: ferry's own default deadline is
 * derived from it, so ferry always ends with its own message and exit code before Argo kills the
 * pod.
 */
export const PUSH_STEP_DEADLINE_SECONDS = 1800;

/** What the default --timeout leaves of the step deadline: pod start, reporting, the kill grace. */
export const PUSH_STEP_MARGIN_SECONDS = 120;

/** Default `--timeout`: per destination, from the start of the run. */
export const DEFAULT_TIMEOUT_SECONDS = PUSH_STEP_DEADLINE_SECONDS - PUSH_STEP_MARGIN_SECONDS;

/**
 * What `npm run synth` writes into cdk.out/ for `ferry doctor` (DOCTOR_PLAN_FILE): the facts the
 * doctor cannot read from the templates themselves (which target a stack belongs to, which profile
 * reads it, which role plays which part), so the CLI needs neither the config loader nor the CDK.
 */
export const DOCTOR_PLAN_FILE = 'ferry.json';

/** The part a role plays, which names its hops (`destination-role-trust`, `source-role-policy`, ...). */
export type DoctorRoleKind = 'builder-role' | 'destination-role' | 'source-role' | 'doctor-role';

export interface DoctorPlan {
  readonly version: 1;
  readonly targets: readonly DoctorPlanTarget[];
  /** The build account's outbound issuer, when some destination uses trust: outbound-federation. */
  readonly outboundFederation?: { readonly issuerUrl: string; readonly audience: string; readonly account: string; readonly target: string };
  readonly cluster: { readonly issuerUrl: string; readonly namespace: string; readonly audience: string };
  /** The config directory synth read, for messages. */
  readonly configDir: string;
}

export interface DoctorPlanTarget {
  readonly name: string;
  readonly kind: 'build' | 'destination';
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly fips: boolean;
  readonly trust: string;
  /** The config file's `profile:`, if set. */
  readonly profile?: string;
  /** The config file the target came from. */
  readonly source: string;
  /** Every stack of this target in cdk.out, the first one `ferry-<name>`. */
  readonly stacks: readonly string[];
  /** Role ARN -> the part it plays, for every role the target's stacks create. */
  readonly roles: Readonly<Record<string, DoctorRoleKind>>;
}
