/**
 * The Kubernetes half: cdk8s charts for Argo Workflows, one YAML file per chart, every name and
 * ARN from lib/config/naming.ts so that a ServiceAccount's role is the role CloudFormation creates.
 */
import { App, YamlOutputType } from 'cdk8s';
import type { FerryConfig } from '../config/model';
import { BuildAndReplicateChart } from './charts/build-and-replicate';
import { BuildPusherChart } from './charts/build-pusher';
import { ExecutorRbacChart } from './charts/executor-rbac';
import { KanikoBuildChart } from './charts/kaniko-build';
import { NotifyChart } from './charts/notify';
import { PipelineChart } from './charts/pipeline';
import { PushChart } from './charts/push';
import { ServiceAccountsChart } from './charts/service-accounts';
import { VerifyChart } from './charts/verify';
import { COMMON_LABELS } from './constants';

export interface K8sAppOptions {
  /** Where `synth()` writes; default: cdk8s's own (CDK8S_OUTDIR, else dist). */
  readonly outdir?: string;
}

/** Chart ids are the output file names: `<id>.k8s.yaml`. */
export const CHARTS = {
  'service-accounts': ServiceAccountsChart,
  'executor-rbac': ExecutorRbacChart,
  'kaniko-build': KanikoBuildChart,
  push: PushChart,
  verify: VerifyChart,
  notify: NotifyChart,
  'build-and-replicate': BuildAndReplicateChart,
  pipeline: PipelineChart,
  'build-pusher': BuildPusherChart,
} as const;

/** Charts a config may not need; every other chart is always emitted. */
const NEEDED: Partial<Record<keyof typeof CHARTS, (config: FerryConfig) => boolean>> = {
  // A configured pusher image is built elsewhere, and ferry/ferry does not exist then.
  'build-pusher': (config) => config.images.pusher === undefined,
};

/** The charts this config emits, by id. */
export function chartIds(config: FerryConfig): (keyof typeof CHARTS)[] {
  return (Object.keys(CHARTS) as (keyof typeof CHARTS)[]).filter((id) => NEEDED[id]?.(config) ?? true);
}

/** The app, not yet synthesized: call `.synth()` to write the files, or read `charts` directly. */
export function createK8sApp(config: FerryConfig, opts: K8sAppOptions = {}): App {
  const app = new App({ outdir: opts.outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  for (const id of chartIds(config)) {
    new CHARTS[id](app, id, { config, namespace: config.cluster.namespace, labels: { ...COMMON_LABELS }, disableResourceNameHashes: true });
  }
  return app;
}

/** Every object the app emits, as plain JSON, in chart order. */
export function k8sManifests(config: FerryConfig): Record<string, unknown>[] {
  return createK8sApp(config).charts.flatMap((chart) => chart.toJson());
}
