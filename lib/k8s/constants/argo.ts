/**
 * The fixed names of the Argo side: WorkflowTemplates, templates, tasks, parameters, volumes,
 * paths, labels and annotations. Names that derive from config (ServiceAccounts, role ARNs,
 * registry hosts, push task names) come from lib/config/naming.ts instead.
 */
import { version } from '../../../package.json';
import { PROJECT } from '../../config/naming';

/** WorkflowTemplate object names. The two entry templates are the ones users submit. */
export const WORKFLOW_TEMPLATE = {
  kanikoBuild: `${PROJECT}-kaniko-build`,
  push: `${PROJECT}-push`,
  verify: `${PROJECT}-verify`,
  notify: `${PROJECT}-notify`,
  /** Entry: builds from a volume another workflow filled (the original pipeline's `build-docker`). */
  buildAndReplicate: `${PROJECT}-build-and-replicate`,
  /** Entry: clones, builds and replicates in one run. */
  pipeline: `${PROJECT}-pipeline`,
  /** Entry: builds the `ferry push` image itself from a checkout of ferry, into the build registry. */
  buildPusher: `${PROJECT}-build-pusher`,
  /** Entry: backfills one destination, or all, from the build registry (ferry sync). */
  sync: `${PROJECT}-sync`,
  /** Entry: walks each push step's credential path from inside its pod, read-only (ferry doctor path). */
  doctor: `${PROJECT}-doctor`,
} as const;

/** The CronWorkflow that runs the ferry-sync entry on the schedule of shared.yaml `sync`. */
export const CRON_WORKFLOW = {
  sync: `${PROJECT}-sync`,
} as const;

/**
 * Template names inside the WorkflowTemplates. Push templates are named by naming.pushTaskName,
 * sync templates by syncTaskName (charts/sync.ts).
 */
export const TEMPLATE = {
  build: 'build',
  /** Kaniko, also writing the image onto the source volume (the build-and-replicate entry). */
  buildToVolume: 'build-to-volume',
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
  /** ferry-sync: a destination name, or ALL_DESTINATIONS. */
  destination: 'destination',
  /** ferry-sync: the tag glob. */
  tags: 'tags',
  /** ferry-sync: a JSON list of repositories to backfill (default: every configured one). */
  repositories: 'repositories',
  /** ferry-doctor: the repository whose path is checked. */
  repository: 'repository',
} as const;

/** The ferry-sync and ferry-doctor `destination` value that means every destination. */
export const ALL_DESTINATIONS = 'all';

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
  tags: 'tags',
} as const;

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

/** Files the steps write into PATH.out; scripts name them relative to $OUT_DIR. */
export const OUT_FILE = {
  digest: 'digest',
  commit: 'commit',
  imageTag: 'image_tag',
} as const;

export const PATH = {
  workspace: '/workspace',
  /** The checkout. A source workflow feeding the build-and-replicate template clones here too. */
  source: '/workspace/source',
  /** Kaniko's --tar-path (build-to-volume only), per run so that several runs can share one source volume. */
  imageTar: '/workspace/{{workflow.name}}-image.tar',
  /**
   * Kaniko's --oci-layout-path (build-to-volume only): Kaniko's exact manifest bytes, for
   * `ferry push` outside the pipeline. The push steps copy from the build registry instead.
   */
  imageLayout: '/workspace/{{workflow.name}}-image-layout',
  /** An emptyDir for the files Argo reads output parameters from. */
  out: OUT_DIR,
  digestFile: `${OUT_DIR}/${OUT_FILE.digest}`,
  /** The clone script writes these two (see scripts.ts). */
  commitFile: `${OUT_DIR}/${OUT_FILE.commit}`,
  imageTagFile: `${OUT_DIR}/${OUT_FILE.imageTag}`,
  tmp: '/tmp',
  gitCredentials: '/ferry/git',
} as const;

/**
 * The volumeClaimTemplate of the pipeline entry. Argo names the claim `<workflow name>-source-code`,
 * which is the original pipeline's convention `{{workflow.parameters.source_workflow}}-source-code` with the
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
