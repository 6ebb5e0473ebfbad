import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates } from '../../../imports/argoproj.io';
import type { FerryConfig } from '../../config/model';
import { imageName, serviceAccountName } from '../../config/naming';
import { INPUT, KANIKO_PUSH_RETRY, LABEL, LIMITS, OUTPUT, PATH, RETRY, TEMPLATE, VOLUME, WORKFLOW_TEMPLATE } from '../constants';
import { emptyDirVolume, env, input, inputRef, KANIKO_CONTAINER, KANIKO_POD, resources, step, WORKSPACE_INPUT, workspaceVolume } from '../pod';
import { retryStrategy } from '../retry';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * Kaniko builds the image and pushes it to the build registry, where the push steps copy it from.
 * Two templates: `build` (registry only), and `build-to-volume`, which also writes the image onto
 * the source volume as a tarball and an OCI layout for whatever else reads that volume (the
 * build-and-replicate entry, whose source workflow owns the volume).
 */
export class KanikoBuildChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.kanikoBuild,
      component: 'build',
      description:
        'Builds the image with Kaniko and pushes it to the build account registry, which every destination is copied from; build-to-volume also writes it onto the source volume (tarball and OCI layout). Output: digest.',
      spec: { templates: [kanikoTemplate(props.config), kanikoTemplate(props.config, { toVolume: true })] },
    });
  }
}

export interface KanikoTemplateOptions {
  /** Also write the image onto the source volume (--tar-path, --oci-layout-path). Default: false. */
  readonly toVolume?: boolean;
}

export function kanikoTemplate(config: FerryConfig, options: KanikoTemplateOptions = {}): WorkflowTemplateSpecTemplates {
  const build = config.build;
  const context = `${PATH.source}/${inputRef(INPUT.buildPath)}`;
  return step(
    {
      name: options.toVolume ? TEMPLATE.buildToVolume : TEMPLATE.build,
      description:
        'Kaniko runs as root (the one exception): it unpacks the base image over its own filesystem. No privilege escalation, only the capabilities builds need.',
      component: 'build',
      labels: { [LABEL.destination]: build.name, [LABEL.partition]: build.partition.id },
      serviceAccountName: serviceAccountName(build),
      limits: LIMITS.build,
    },
    {
      securityContext: KANIKO_POD,
      inputs: {
        parameters: [
          WORKSPACE_INPUT,
          input(INPUT.buildPath, 'build context, relative to the checkout'),
          input(INPUT.dockerfile, 'Dockerfile, relative to the build context'),
          input(INPUT.imageRepository, 'ECR repository to build into'),
          input(INPUT.imageTag, 'image tag'),
        ],
      },
      volumes: [workspaceVolume(), emptyDirVolume(VOLUME.out)],
      container: {
        image: config.images.kaniko,
        command: ['/kaniko/executor'],
        args: [
          `--context=dir://${context}`,
          `--dockerfile=${context}/${inputRef(INPUT.dockerfile)}`,
          `--destination=${imageName(build, inputRef(INPUT.imageRepository))}:${inputRef(INPUT.imageTag)}`,
          ...(options.toVolume ? [`--tar-path=${PATH.imageTar}`, `--oci-layout-path=${PATH.imageLayout}`] : []),
          `--digest-file=${PATH.digestFile}`,
          '--cache=true',
          `--cache-repo=${imageName(build, config.cacheRepository)}`,
          `--push-retry=${KANIKO_PUSH_RETRY}`,
        ],
        // Kaniko's ECR helper signs with the web identity the webhook injects; STS must be regional.
        env: env({ AWS_REGION: build.region }),
        volumeMounts: [
          { name: VOLUME.workspace, mountPath: PATH.workspace },
          { name: VOLUME.out, mountPath: PATH.out },
        ],
        resources: resources(LIMITS.build),
        securityContext: KANIKO_CONTAINER,
      },
      outputs: { parameters: [{ name: OUTPUT.digest, description: 'manifest digest Kaniko pushed', valueFrom: { path: PATH.digestFile } }] },
      retryStrategy: retryStrategy(RETRY.build),
    },
  );
}
