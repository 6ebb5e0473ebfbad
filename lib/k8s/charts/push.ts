import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { WorkflowTemplateSpecTemplates } from '../../../imports/argoproj.io';
import type { FerryConfig, Target } from '../../config/model';
import { imageName, pushTaskName, pusherImage, registryHost, serviceAccountName } from '../../config/naming';
import { INPUT, LABEL, LIMITS, OUTPUT, PATH, RETRY, VOLUME, WORKFLOW_TEMPLATE } from '../constants';
import { retryStrategy } from '../retry';
import { emptyDirVolume, env, input, inputRef, NON_ROOT_CONTAINER, resources, step, WORKSPACE_INPUT, workspaceVolume } from '../pod';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/** One push template per destination, each running as that destination's own IRSA account. */
export class PushChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.push,
      component: 'push',
      description: `Pushes the image Kaniko wrote (its OCI layout) to each destination with ferry push, refusing any digest but the built one. Templates: ${props.config.destinations.map(pushTaskName).join(', ') || 'none'}.`,
      spec: { templates: props.config.destinations.map((d) => pushTemplate(props.config, d)) },
    });
  }
}

export function pushTemplate(config: FerryConfig, destination: Target): WorkflowTemplateSpecTemplates {
  return step(
    {
      name: pushTaskName(destination),
      description: `Pushes to ${destination.name}: ${destination.partition.title}, account ${destination.account}, ${destination.region}.`,
      component: 'push',
      labels: { [LABEL.destination]: destination.name, [LABEL.partition]: destination.partition.id },
      serviceAccountName: serviceAccountName(destination),
      limits: LIMITS.push,
    },
    {
      inputs: {
        parameters: [
          WORKSPACE_INPUT,
          input(INPUT.imageRepository, 'ECR repository, the same name in every account'),
          input(INPUT.imageTag, 'image tag'),
          input(INPUT.expectedDigest, 'the digest Kaniko pushed; ferry push refuses to tag anything else'),
        ],
      },
      volumes: [workspaceVolume(), emptyDirVolume(VOLUME.out), emptyDirVolume(VOLUME.tmp)],
      container: {
        image: pusherImage(config),
        command: ['ferry', 'push'],
        args: ['--expect-digest', inputRef(INPUT.expectedDigest), '--digest-file', PATH.digestFile, '--json'],
        env: env({
          IMAGE_TAR: PATH.imageLayout,
          IMAGE_URI: `${imageName(destination, inputRef(INPUT.imageRepository))}:${inputRef(INPUT.imageTag)}`,
          AWS_ECR_ENDPOINT: registryHost(destination),
          // STS must be called inside the destination's partition; the webhook keeps a region the container sets.
          AWS_REGION: destination.region,
        }),
        volumeMounts: [
          { name: VOLUME.workspace, mountPath: PATH.workspace, readOnly: true },
          { name: VOLUME.out, mountPath: PATH.out },
          { name: VOLUME.tmp, mountPath: PATH.tmp },
        ],
        resources: resources(LIMITS.push),
        securityContext: NON_ROOT_CONTAINER,
      },
      // An empty default keeps a failed push's outputs resolvable, so verify and report can name it.
      outputs: { parameters: [{ name: OUTPUT.digest, description: 'manifest digest the destination holds', valueFrom: { path: PATH.digestFile, default: '' } }] },
      retryStrategy: retryStrategy(RETRY.push),
    },
  );
}
