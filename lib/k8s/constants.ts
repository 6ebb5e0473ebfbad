/**
 * Every fixed name, parameter, label, annotation, path and limit of the Kubernetes side, in one
 * place. Names that derive from config (ServiceAccounts, role ARNs, registry hosts, push task
 * names) come from lib/config/naming.ts instead.
 */
import { version } from '../../package.json';
import { EXIT } from '../push/errors';
import type { FerryConfig, Target } from '../config/model';
import { GIT_CREDENTIALS_SECRET, PROJECT, pushTaskName } from '../config/naming';

/** WorkflowTemplate object names. The two entry templates are the ones users submit. */
export const WORKFLOW_TEMPLATE = {
  kanikoBuild: `${PROJECT}-kaniko-build`,
  push: `${PROJECT}-push`,
  verify: `${PROJECT}-verify`,
  notify: `${PROJECT}-notify`,
  /** Entry: builds from a volume another workflow filled (the seed's `build-docker`). */
  buildAndReplicate: `${PROJECT}-build-and-replicate`,
  /** Entry: clones, builds and replicates in one run. */
  pipeline: `${PROJECT}-pipeline`,
  /** Entry: builds the `ferry push` image itself from a checkout of ferry, into the build registry. */
  buildPusher: `${PROJECT}-build-pusher`,
} as const;

/** Template names inside the WorkflowTemplates. Push templates are named by naming.pushTaskName. */
export const TEMPLATE = {
  build: 'build',
  verify: 'verify',
  report: 'report',
  alert: 'alert',
  clone: 'clone',
  main: 'main',
  exitHandler: 'exit-handler',
} as const;

/** DAG task names besides the push tasks. */
export const TASK = {
  clone: 'clone',
  build: 'build',
  verify: 'verify',
  notify: 'notify',
  alert: 'alert',
} as const;

/** Parameters of the entry templates, as users pass them with `argo submit -p name=value`. */
export const WORKFLOW_PARAM = {
  repo: 'repo',
  revision: 'revision',
  buildPath: 'build_path',
  dockerfile: 'dockerfile',
  imageRepository: 'image_repository',
  imageTag: 'image_tag',
  sourceWorkflow: 'source_workflow',
} as const;

/** Input parameters of the step templates. */
export const INPUT = {
  workspaceClaim: 'workspace_claim',
  buildPath: 'build_path',
  dockerfile: 'dockerfile',
  imageRepository: 'image_repository',
  imageTag: 'image_tag',
  expectedDigest: 'expected_digest',
  verifyStatus: 'verify_status',
  repo: 'repo',
  revision: 'revision',
} as const;

/** Per-destination inputs of the verify and report templates. */
export function digestInput(target: Target): string {
  return `${pushTaskName(target)}-digest`;
}
export function statusInput(target: Target): string {
  return `${pushTaskName(target)}-status`;
}

/** Output parameters. */
export const OUTPUT = {
  digest: 'digest',
  commit: 'commit',
  imageTag: 'image_tag',
} as const;

/** Volumes and where they are mounted. */
export const VOLUME = {
  workspace: 'workspace',
  out: 'out',
  tmp: 'tmp',
  gitCredentials: 'git-credentials',
} as const;

const OUT_DIR = '/ferry/out';

export const PATH = {
  workspace: '/workspace',
  /** The checkout. A source workflow feeding the build-and-replicate template clones here too. */
  source: '/workspace/source',
  /** Kaniko's --tar-path, per run so that several runs can share one source volume. */
  imageTar: '/workspace/{{workflow.name}}-image.tar',
  /**
   * Kaniko's --oci-layout-path. The pushers read this, not the tarball: a layout keeps Kaniko's
   * exact manifest bytes, so the pushed digest is Kaniko's whatever media types the base image
   * had, where a tarball only carries layers and ferry rebuilds a Docker schema 2 manifest.
   */
  imageLayout: '/workspace/{{workflow.name}}-image-layout',
  /** An emptyDir for the files Argo reads output parameters from. */
  out: OUT_DIR,
  digestFile: `${OUT_DIR}/digest`,
  /** The clone script writes these two (see scripts.ts). */
  commitFile: `${OUT_DIR}/commit`,
  imageTagFile: `${OUT_DIR}/image_tag`,
  tmp: '/tmp',
  gitCredentials: '/ferry/git',
} as const;

/**
 * The volumeClaimTemplate of the pipeline entry. Argo names the claim `<workflow name>-source-code`,
 * which is the seed's convention `{{workflow.parameters.source_workflow}}-source-code` with the
 * running workflow as its own source workflow.
 */
export const SOURCE_CLAIM_SUFFIX = 'source-code';

/** Labels on every object, and on the pods (template metadata). */
export const LABEL = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
  destination: `${PROJECT}/destination`,
  partition: `${PROJECT}/partition`,
} as const;

export const COMMON_LABELS: Readonly<Record<string, string>> = {
  [LABEL.partOf]: PROJECT,
  [LABEL.version]: version,
  [LABEL.managedBy]: 'cdk8s',
};

export const ANNOTATION = {
  /** Shown by the Argo UI next to WorkflowTemplates and templates. */
  description: 'workflows.argoproj.io/description',
  roleArn: 'eks.amazonaws.com/role-arn',
  audience: 'eks.amazonaws.com/audience',
  stsRegionalEndpoints: 'eks.amazonaws.com/sts-regional-endpoints',
} as const;

/** The user every non-Kaniko container runs as (the distroless "nonroot" id). */
export const NON_ROOT_UID = 65532;

/**
 * What Kaniko needs on top of root to unpack base images and run RUN steps (chown, setuid
 * helpers such as apt's _apt user, file capabilities). Everything else is dropped.
 */
// FSETID: without it the kernel clears setgid bits when root chmods a file of another group,
// so packages such as crontab or chage would land without theirs.
export const KANIKO_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'SETGID', 'SETUID', 'SETFCAP'] as const;

export interface StepLimits {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
  readonly activeDeadlineSeconds: number;
}

/** Requests, limits and deadlines per step. ferry push stays under 150 MB RSS for any image size. */
export const LIMITS: Readonly<Record<'clone' | 'build' | 'push' | 'verify' | 'notify', StepLimits>> = {
  clone: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' }, activeDeadlineSeconds: 600 },
  build: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '4', memory: '8Gi' }, activeDeadlineSeconds: 3600 },
  push: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' }, activeDeadlineSeconds: 1800 },
  verify: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' }, activeDeadlineSeconds: 120 },
  notify: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' }, activeDeadlineSeconds: 120 },
};

/** A whole run, from clone to notification. */
export const WORKFLOW_DEADLINE_SECONDS = 3 * 3600;

/** Finished workflows (and their pods and volume) are deleted after this long. */
export const TTL_SECONDS = { afterSuccess: 24 * 3600, afterFailure: 7 * 24 * 3600 } as const;

/** Kaniko's own retries of the registry push. */
export const KANIKO_PUSH_RETRY = 3;

/** Exit code of ferry push and of the clone script for bad input, which a retry cannot fix. */
export const EXIT_BAD_INPUT = EXIT.badInput;

export interface UserProvidedObject {
  readonly kind: 'Secret' | 'ServiceAccount';
  readonly name: string;
  /** Whether the pipeline runs without it. */
  readonly optional: boolean;
  readonly purpose: string;
}

/**
 * Objects the templates reference that ferry does not emit: the user creates them. The offline
 * lint accepts references to these and to emitted objects only; the README lists them.
 */
export function userProvidedObjects(config: FerryConfig): readonly UserProvidedObject[] {
  return [
    ...(config.slack
      ? [{ kind: 'Secret' as const, name: config.slack.secretName, optional: false, purpose: `Slack incoming webhook URL under key "${config.slack.secretKey}"` }]
      : []),
    { kind: 'Secret', name: GIT_CREDENTIALS_SECRET, optional: true, purpose: 'a .git-credentials file for cloning private repositories over HTTPS' },
  ];
}
