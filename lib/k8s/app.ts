/**
 * The Kubernetes half: cdk8s charts for Argo Workflows, one YAML file per chart, every name and
 * ARN from lib/config/naming.ts so that a ServiceAccount's role is the role CloudFormation creates.
 */
import { App, YamlOutputType } from 'cdk8s';
import { fipsMintNotices } from '../config/fips-mint';
import type { FerryConfig } from '../config/model';
import { BuildAndReplicateChart } from './charts/build-and-replicate';
import { BuildPusherChart } from './charts/build-pusher';
import { DoctorChart } from './charts/doctor';
import { ExecutorRbacChart } from './charts/executor-rbac';
import { KanikoBuildChart } from './charts/kaniko-build';
import { NotifyChart } from './charts/notify';
import { PipelineChart } from './charts/pipeline';
import type { FerryChartProps } from './charts/props';
import { PushChart } from './charts/push';
import { ServiceAccountsChart } from './charts/service-accounts';
import { SyncChart } from './charts/sync';
import { SyncScheduleChart } from './charts/sync-schedule';
import { VerifyChart } from './charts/verify';
import { COMMON_LABELS } from './constants';
import { markForServerSideApply, objectSizeNotices } from './object-size';
import { assertValid } from './validate';
import { validateOptionsFor } from './validate/config';

export interface K8sAppOptions {
  /** Where `synth()` writes; default: cdk8s's own (CDK8S_OUTDIR, else dist). */
  readonly outdir?: string;
  /**
   * Receives what the operator must know once per synth of the pipeline: which FIPS destinations
   * get their outbound token from a non-FIPS STS endpoint (lib/config/fips-mint.ts).
   * @default - one line each on stderr
   */
  readonly notice?: (line: string) => void;
}

/** The app, not yet synthesized: call `.synth()` to write the files, or read `charts` directly. Chart ids are the file names: `<id>.k8s.yaml`. */
export function createK8sApp(config: FerryConfig, opts: K8sAppOptions = {}): App {
  const app = new App({ outdir: opts.outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const props: FerryChartProps = { config, namespace: config.cluster.namespace, labels: { ...COMMON_LABELS }, disableResourceNameHashes: true };
  new ServiceAccountsChart(app, 'service-accounts', props);
  new ExecutorRbacChart(app, 'executor-rbac', props);
  new KanikoBuildChart(app, 'kaniko-build', props);
  new PushChart(app, 'push', props);
  new VerifyChart(app, 'verify', props);
  new NotifyChart(app, 'notify', props);
  new BuildAndReplicateChart(app, 'build-and-replicate', props);
  new PipelineChart(app, 'pipeline', props);
  // A configured pusher image is built elsewhere, and ferry/ferry does not exist then.
  if (config.images.pusher === undefined) new BuildPusherChart(app, 'build-pusher', props);
  new SyncChart(app, 'sync', props);
  new SyncScheduleChart(app, 'sync-schedule', props);
  new DoctorChart(app, 'doctor', props);
  markForServerSideApply(app);
  return app;
}

/** Every object the app emits, as plain JSON, in chart order. */
export function k8sManifests(config: FerryConfig): Record<string, unknown>[] {
  return createK8sApp(config).charts.flatMap((chart) => chart.toJson());
}

/**
 * Validates the app's objects (lib/k8s/validate) and only then writes them, so a finding fails
 * synth, as a cdk-nag finding does, and leaves nothing behind. Throws ArgoValidationError.
 */
export function synthK8s(config: FerryConfig, opts: K8sAppOptions = {}): void {
  const app = createK8sApp(config, opts);
  assertValid(
    app.charts.flatMap((chart) => chart.toJson()),
    validateOptionsFor(config),
  );
  const sizeNotices = objectSizeNotices(app);
  app.synth();
  const notice = opts.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (const line of [...fipsMintNotices(config), ...sizeNotices]) notice(line);
}
