import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates } from '../../../imports/argoproj.io';
import type { FerryConfig, Target } from '../../config/model';
import { buildImageName, imageName, pusherImage, pushTaskName, serviceAccountName } from '../../config/naming';
import { INPUT, LABEL, LIMITS, OUTPUT, PATH, RETRY, VOLUME, WORKFLOW_TEMPLATE } from '../constants';
import { deliveryEnv, trustArgs, withRole } from '../delivery';
import { emptyDirVolume, env, input, inputRef, NON_ROOT_CONTAINER, resources, step } from '../pod';
import { retryStrategy } from '../retry';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * One push template per destination: `ferry copy` from the build registry, by digest, to that
 * destination, running as its push ServiceAccount. No run volume, so the pushes run in parallel
 * on any node.
 */
export class PushChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.push,
      component: 'push',
      description: `Copies the built image from the build registry, by digest, to each destination with ferry copy, which refuses any other digest and reads the destination back by tag and digest. Templates: ${props.config.destinations.map(pushTaskName).join(', ') || 'none'}.`,
      spec: { templates: props.config.destinations.map((d) => pushTemplate(props.config, d)) },
    });
  }
}

export function pushTemplate(config: FerryConfig, destination: Target): WorkflowTemplateSpecTemplates {
  const repository = inputRef(INPUT.imageRepository);
  const digest = inputRef(INPUT.expectedDigest);
  return step(
    {
      name: pushTaskName(destination),
      description: `Copies to ${destination.name}: ${destination.partition.title}, account ${destination.account}, ${destination.region}, trust ${destination.trust}.`,
      component: 'push',
      labels: { [LABEL.destination]: destination.name, [LABEL.partition]: destination.partition.id },
      serviceAccountName: serviceAccountName(destination),
      limits: LIMITS.push,
    },
    {
      inputs: {
        parameters: [
          input(INPUT.imageRepository, 'ECR repository, the same name in every account'),
          input(INPUT.imageTag, 'image tag'),
          input(INPUT.expectedDigest, 'the digest Kaniko pushed to the build registry; copied by this digest, and nothing else is tagged'),
        ],
      },
      volumes: [emptyDirVolume(VOLUME.out), emptyDirVolume(VOLUME.tmp)],
      container: {
        image: pusherImage(config),
        command: ['ferry', 'copy'],
        args: [
          `${buildImageName(config, repository)}@${digest}`,
          '--to',
          withRole(`${imageName(destination, repository)}:${inputRef(INPUT.imageTag)}`, destination),
          '--expect-digest',
          digest,
          '--digest-file',
          PATH.digestFile,
          '--json',
          ...trustArgs(config, destination),
        ],
        env: env(deliveryEnv(config, LIMITS.push)),
        volumeMounts: [
          { name: VOLUME.out, mountPath: PATH.out },
          { name: VOLUME.tmp, mountPath: PATH.tmp },
        ],
        resources: resources(LIMITS.push),
        securityContext: NON_ROOT_CONTAINER,
      },
      // For people reading the run (argo get, the UI). No task reads it: a push that did not
      // succeed may have no outputs, so verify and notify go by the task status instead.
      outputs: {
        parameters: [
          {
            name: OUTPUT.digest,
            description: 'manifest digest the destination holds, read back after the push',
            valueFrom: { path: PATH.digestFile, default: '' },
          },
        ],
      },
      retryStrategy: retryStrategy(RETRY.push),
    },
  );
}
