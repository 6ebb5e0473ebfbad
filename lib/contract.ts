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
