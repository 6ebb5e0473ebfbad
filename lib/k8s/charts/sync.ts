import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates, WorkflowTemplateSpecTemplatesDagTasks } from '../../../imports/argoproj.io';
import type { FerryConfig, Target } from '../../config/model';
import { buildImageName, imageName, pusherImage, serviceAccountName } from '../../config/naming';
import { ALL_DESTINATIONS, INPUT, LABEL, LIMITS, PATH, RETRY, TEMPLATE, VOLUME, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import { args, entrySpec, exitHandlerTemplate, workflowParam } from '../dag';
import { deliveryEnv, trustArgs, withRole } from '../delivery';
import { emptyDirVolume, env, input, inputRef, NON_ROOT_CONTAINER, resources, step } from '../pod';
import { retryStrategy } from '../retry';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/** The sync task and template of a destination. */
export function syncTaskName(destination: Target): string {
  return `sync-${destination.name}`;
}

/**
 * The `ferry-sync` entry: backfills one destination, or every one, from the build registry. Per
 * destination and configured repository, one pod runs `ferry sync` as that destination's push
 * ServiceAccount: only tags matching `tags` that the destination lacks move, and a tag the
 * destination holds at another digest is reported and left alone.
 * `argo submit --from workflowtemplate/ferry-sync -p destination=<name>|all -p tags=<glob>`
 */
export class SyncChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const config = props.config;
    const destinations = config.destinations;
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.sync,
      component: 'sync',
      description: `Backfills destinations from the build registry with ferry sync: every tag matching "tags" that a destination lacks, for every configured repository. Destinations: ${destinations.map((d) => d.name).join(', ') || 'none'}.`,
      spec: entrySpec({
        name: WORKFLOW_TEMPLATE.sync,
        parameters: [
          {
            name: WORKFLOW_PARAM.destination,
            value: ALL_DESTINATIONS,
            enum: [ALL_DESTINATIONS, ...destinations.map((d) => d.name)],
            description: `The destination to backfill, or "${ALL_DESTINATIONS}".`,
          },
          { name: WORKFLOW_PARAM.tags, value: config.sync.tags, description: 'Tags to sync, as a glob (shared.yaml sync.tags by default).' },
          {
            name: WORKFLOW_PARAM.repositories,
            value: JSON.stringify(config.repositories.map((r) => r.name)),
            description:
              'The repositories to backfill, as a JSON list. Default: every configured repository; a repository under a repositoryPrefixes prefix is named here, e.g. ["team-a/service"].',
          },
        ],
        templates: [{ name: TEMPLATE.main, dag: { tasks: destinations.map((d) => syncTask(d)) } }, ...destinations.map((d) => syncTemplate(config, d))],
        exitHandler: exitHandlerTemplate({ repository: '*', tag: workflowParam(WORKFLOW_PARAM.tags) }),
      }),
    });
  }
}

/** One pod per repository in the `repositories` parameter, when this destination (or all) was asked for. */
function syncTask(destination: Target): WorkflowTemplateSpecTemplatesDagTasks {
  const chosen = `'${workflowParam(WORKFLOW_PARAM.destination)}'`;
  return {
    name: syncTaskName(destination),
    template: syncTaskName(destination),
    // Quoted: destination names may hold "-", which Argo's expression language reads as minus.
    when: `${chosen} == '${ALL_DESTINATIONS}' || ${chosen} == '${destination.name}'`,
    withParam: workflowParam(WORKFLOW_PARAM.repositories),
    arguments: args({ [INPUT.imageRepository]: '{{item}}', [INPUT.tags]: workflowParam(WORKFLOW_PARAM.tags) }),
  };
}

export function syncTemplate(config: FerryConfig, destination: Target): WorkflowTemplateSpecTemplates {
  const repository = inputRef(INPUT.imageRepository);
  return step(
    {
      name: syncTaskName(destination),
      description: `Backfills ${destination.name}: ${destination.partition.title}, account ${destination.account}, ${destination.region}, trust ${destination.trust}.`,
      component: 'sync',
      labels: { [LABEL.destination]: destination.name, [LABEL.partition]: destination.partition.id },
      serviceAccountName: serviceAccountName(destination),
      limits: LIMITS.sync,
    },
    {
      inputs: { parameters: [input(INPUT.imageRepository, 'ECR repository, the same name in every account'), input(INPUT.tags, 'tag glob')] },
      volumes: [emptyDirVolume(VOLUME.tmp)],
      container: {
        image: pusherImage(config),
        command: ['ferry', 'sync'],
        args: [
          buildImageName(config, repository),
          '--to',
          withRole(imageName(destination, repository), destination),
          '--tags',
          inputRef(INPUT.tags),
          '--json',
          ...trustArgs(config, destination),
        ],
        env: env(deliveryEnv(config, LIMITS.sync)),
        volumeMounts: [{ name: VOLUME.tmp, mountPath: PATH.tmp }],
        resources: resources(LIMITS.sync),
        securityContext: NON_ROOT_CONTAINER,
      },
      retryStrategy: retryStrategy(RETRY.sync),
    },
  );
}
