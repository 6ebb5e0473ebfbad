import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates, WorkflowTemplateSpecTemplatesDagTasks } from '../../../imports/argoproj.io';
import type { FerryConfig, Target } from '../../config/model';
import { buildImageName, imageName, prefixPath, pusherImage, serviceAccountName, serviceAccountSubject, sourceRoleArn } from '../../config/naming';
import { ALL_DESTINATIONS, INPUT, LABEL, LIMITS, PATH, TEMPLATE, VOLUME, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import { args, entrySpec, workflowParam } from '../dag';
import { deliveryEnv, trustArgs, withRole } from '../delivery';
import { emptyDirVolume, env, input, inputRef, NON_ROOT_CONTAINER, resources, step } from '../pod';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/** The doctor task and template of a destination. */
export function doctorTaskName(destination: Target): string {
  return `doctor-${destination.name}`;
}

/**
 * The `ferry-doctor` entry: per destination, one pod runs `ferry doctor path` as that destination's
 * push ServiceAccount, from the pusher image, with the push step's environment and trust options.
 * It walks the push step's credential path and writes nothing; each pod prints one line per hop and
 * fails on the first hop that does not hold. No retry and no alert: a doctor reports mistakes, a
 * retry cannot fix them, and the user is watching.
 * `argo submit --from workflowtemplate/ferry-doctor -p destination=<name>|all -p repository=<name>`
 */
export class DoctorChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const config = props.config;
    const destinations = config.destinations;
    const repositories = config.repositories.map((r) => r.name);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.doctor,
      component: 'doctor',
      description: `Checks, read-only, each destination's credential path as its push step walks it: pod token, source role, build registry, mint (outbound federation), destination role, ECR login, destination repository. Destinations: ${destinations.map((d) => d.name).join(', ') || 'none'}.`,
      spec: entrySpec({
        name: WORKFLOW_TEMPLATE.doctor,
        parameters: [
          {
            name: WORKFLOW_PARAM.destination,
            value: ALL_DESTINATIONS,
            enum: [ALL_DESTINATIONS, ...destinations.map((d) => d.name)],
            description: `The destination whose path to check, or "${ALL_DESTINATIONS}".`,
          },
          {
            name: WORKFLOW_PARAM.repository,
            value: repositories[0],
            enum: repositories,
            description: 'The repository to read in the build registry and in each destination (the first configured one by default).',
          },
        ],
        templates: [{ name: TEMPLATE.main, dag: { tasks: destinations.map(doctorTask) } }, ...destinations.map((d) => doctorTemplate(config, d))],
        exitHandler: false,
      }),
    });
  }
}

function doctorTask(destination: Target): WorkflowTemplateSpecTemplatesDagTasks {
  const chosen = `'${workflowParam(WORKFLOW_PARAM.destination)}'`;
  return {
    name: doctorTaskName(destination),
    template: doctorTaskName(destination),
    // Quoted: destination names may hold "-", which Argo's expression language reads as minus.
    when: `${chosen} == '${ALL_DESTINATIONS}' || ${chosen} == '${destination.name}'`,
    arguments: args({ [INPUT.imageRepository]: workflowParam(WORKFLOW_PARAM.repository) }),
  };
}

/** What the doctor expects of the pod's tokens, from the config the push templates came from. */
function expectations(config: FerryConfig, destination: Target): string[] {
  const outbound = destination.trust === 'outbound-federation' && config.outboundFederation;
  return [
    '--expect-issuer',
    config.cluster.issuerUrl,
    '--expect-audience',
    config.cluster.audience,
    '--expect-subject',
    serviceAccountSubject(config.cluster, destination),
    ...(outbound ? ['--expect-outbound-issuer', outbound.issuerUrl] : []),
    // A repository under a prefix may not exist yet: its first push creates it.
    ...config.repositoryPrefixes.flatMap((p) => ['--created-on-push', `${prefixPath(p)}/`]),
  ];
}

export function doctorTemplate(config: FerryConfig, destination: Target): WorkflowTemplateSpecTemplates {
  const repository = inputRef(INPUT.imageRepository);
  return step(
    {
      name: doctorTaskName(destination),
      description: `Checks the path to ${destination.name}: ${destination.partition.title}, account ${destination.account}, ${destination.region}, trust ${destination.trust}.`,
      component: 'doctor',
      labels: { [LABEL.destination]: destination.name, [LABEL.partition]: destination.partition.id },
      // The push step's own ServiceAccount: the doctor holds exactly the push step's identity.
      serviceAccountName: serviceAccountName(destination),
      limits: LIMITS.doctor,
    },
    {
      inputs: { parameters: [input(INPUT.imageRepository, 'ECR repository, the same name in every account')] },
      volumes: [emptyDirVolume(VOLUME.tmp)],
      container: {
        image: pusherImage(config),
        command: ['ferry', 'doctor', 'path'],
        args: [
          // The role the pod must hold: its ServiceAccount's annotation, as dist/ writes it.
          `${buildImageName(config, repository)}=${sourceRoleArn(config, destination)}`,
          '--to',
          withRole(imageName(destination, repository), destination),
          '--name',
          destination.name,
          ...expectations(config, destination),
          ...trustArgs(config, destination),
        ],
        env: env(deliveryEnv(config, LIMITS.doctor)),
        volumeMounts: [{ name: VOLUME.tmp, mountPath: PATH.tmp }],
        resources: resources(LIMITS.doctor),
        securityContext: NON_ROOT_CONTAINER,
      },
    },
  );
}
