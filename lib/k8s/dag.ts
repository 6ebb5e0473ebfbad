/**
 * The build-and-replicate DAG and the parts both entry templates share. The two entries differ
 * only in where the source volume and the tag come from, so they build their DAG here.
 */
import {
  type WorkflowTemplateSpec,
  type WorkflowTemplateSpecArgumentsParameters,
  WorkflowTemplateSpecPodGcStrategy,
  type WorkflowTemplateSpecTemplates,
  type WorkflowTemplateSpecTemplatesDagTasks,
  type WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters,
} from '../../imports/argoproj.io';
import type { FerryConfig } from '../config/model';
import { prefixPath, pushTaskName, WORKFLOW_SERVICE_ACCOUNT } from '../config/naming';
import { INPUT, LABEL, OUTPUT, TASK, TEMPLATE, TTL_SECONDS, WORKFLOW_DEADLINE_SECONDS, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from './constants';
import { destinationArguments } from './destinations';
import { NON_ROOT_POD } from './pod';

/** Where the DAG's source volume and image tag come from, as Argo expressions. */
export interface DagSources {
  readonly workspaceClaim: string;
  readonly imageTag: string;
  /** The Kaniko template: TEMPLATE.build, or TEMPLATE.buildToVolume to leave the image on the volume. Default: build. */
  readonly buildTemplate?: string;
  /** A task every other task runs after (the pipeline's clone). */
  readonly after?: string;
}

export function workflowParam(name: string): string {
  return `{{workflow.parameters.${name}}}`;
}

/** A `depends` term that holds once the task has ended, however it ended. */
export function endedInAnyState(task: string): string {
  return `(${task}.Succeeded || ${task}.Failed || ${task}.Errored)`;
}

export function args(values: Record<string, string>): { parameters: WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters[] } {
  return { parameters: Object.entries(values).map(([name, value]) => ({ name, value })) };
}

/**
 * build, then one push per destination in parallel, then verify and the report once every push
 * has ended in any state. The report may fail without failing the run (delivery is what counts).
 *
 * Only the pushes read build's output, and `depends: build` means build Succeeded. verify and the
 * report read each push's STATUS, never its outputs, and test `build` too before they read the
 * built digest: a task that did not succeed may have none.
 */
export function buildAndReplicateTasks(config: FerryConfig, sources: DagSources): WorkflowTemplateSpecTemplatesDagTasks[] {
  const repository = workflowParam(WORKFLOW_PARAM.imageRepository);
  const builtDigest = `{{tasks.${TASK.build}.outputs.parameters.${OUTPUT.digest}}}`;
  const pushes = config.destinations.map(pushTaskName);
  const pushesEnded = pushes.map(endedInAnyState);
  const common = { [INPUT.imageRepository]: repository, [INPUT.imageTag]: sources.imageTag };
  return [
    buildTask(sources),
    ...pushes.map((task) => ({
      name: task,
      templateRef: { name: WORKFLOW_TEMPLATE.push, template: task },
      depends: TASK.build,
      arguments: args({ ...common, [INPUT.expectedDigest]: builtDigest }),
    })),
    {
      name: TASK.verify,
      templateRef: { name: WORKFLOW_TEMPLATE.verify, template: TEMPLATE.verify },
      depends: [TASK.build, ...pushesEnded].join(' && '),
      arguments: { parameters: [...args({ [INPUT.expectedDigest]: builtDigest, ...common }).parameters, ...destinationArguments(config)] },
    },
    {
      name: TASK.notify,
      templateRef: { name: WORKFLOW_TEMPLATE.notify, template: TEMPLATE.report },
      depends: [TASK.build, ...pushesEnded, endedInAnyState(TASK.verify)].join(' && '),
      continueOn: { failed: true, error: true },
      arguments: {
        parameters: [
          ...args({ ...common, [INPUT.expectedDigest]: builtDigest, [INPUT.verifyStatus]: `{{tasks.${TASK.verify}.status}}` }).parameters,
          ...destinationArguments(config),
        ],
      },
    },
  ];
}

/** Kaniko builds the entry's build_path, dockerfile and image_repository into the build registry. */
export function buildTask(sources: DagSources): WorkflowTemplateSpecTemplatesDagTasks {
  return {
    name: TASK.build,
    templateRef: { name: WORKFLOW_TEMPLATE.kanikoBuild, template: sources.buildTemplate ?? TEMPLATE.build },
    depends: sources.after,
    arguments: args({
      [INPUT.workspaceClaim]: sources.workspaceClaim,
      [INPUT.buildPath]: workflowParam(WORKFLOW_PARAM.buildPath),
      [INPUT.dockerfile]: workflowParam(WORKFLOW_PARAM.dockerfile),
      [INPUT.imageRepository]: workflowParam(WORKFLOW_PARAM.imageRepository),
      [INPUT.imageTag]: sources.imageTag,
    }),
  };
}

/**
 * The entry's onExit: alerts unless the run succeeded, wherever it stopped (clone, build, push,
 * verify). `image` names what the run was delivering, as the alert shows it.
 */
export function exitHandlerTemplate(image: { repository: string; tag: string } = DELIVERY_IMAGE): WorkflowTemplateSpecTemplates {
  return {
    name: TEMPLATE.exitHandler,
    steps: [
      [
        {
          name: TASK.alert,
          templateRef: { name: WORKFLOW_TEMPLATE.notify, template: TEMPLATE.alert },
          when: '{{workflow.status}} != Succeeded',
          arguments: args({ [INPUT.imageRepository]: image.repository, [INPUT.imageTag]: image.tag }),
        },
      ],
    ],
  };
}

/** What the build-and-deliver entries deliver: their image_repository and image_tag. */
const DELIVERY_IMAGE = { repository: workflowParam(WORKFLOW_PARAM.imageRepository), tag: workflowParam(WORKFLOW_PARAM.imageTag) };

/**
 * The parameters both entries take besides their source. With repository prefixes, any name is
 * accepted at submit: a repository under a prefix is created by its first push, and ECR refuses
 * one outside both the list and the prefixes (the build step then fails, exit 2).
 */
export function deliveryParameters(config: FerryConfig): WorkflowTemplateSpecArgumentsParameters[] {
  return buildParameters(
    config.repositories.map((r) => r.name),
    config.repositoryPrefixes.map((p) => `${prefixPath(p)}/`),
  );
}

/** The build parameters: `image_repository` one of `repositories`, or any name when there are prefixes. */
export function buildParameters(repositories: readonly string[], prefixes: readonly string[] = []): WorkflowTemplateSpecArgumentsParameters[] {
  return [
    { name: WORKFLOW_PARAM.buildPath, value: '.', description: 'Build context, relative to the repository root.' },
    { name: WORKFLOW_PARAM.dockerfile, value: 'Dockerfile', description: 'Dockerfile, relative to the build context.' },
    {
      name: WORKFLOW_PARAM.imageRepository,
      value: repositories[0],
      ...(prefixes.length ? {} : { enum: [...repositories] }),
      description: prefixes.length
        ? `ECR repository to deliver into: one of the configured repositories, or any name under ${prefixes.join(', ')} (created by its first push in every account).`
        : 'ECR repository to deliver into; the same name exists in every account.',
    },
  ];
}

export interface EntrySpecOptions {
  readonly name: string;
  readonly parameters: WorkflowTemplateSpecArgumentsParameters[];
  readonly templates: WorkflowTemplateSpecTemplates[];
  /** The onExit template. Default: exitHandlerTemplate() for the build-and-deliver entries; false: none. */
  readonly exitHandler?: WorkflowTemplateSpecTemplates | false;
}

/**
 * What only a submitted workflow reads (ignored under templateRef): entrypoint, arguments,
 * onExit, the default account, deadline and clean-up.
 */
export function entrySpec(options: EntrySpecOptions): WorkflowTemplateSpec {
  return {
    entrypoint: TEMPLATE.main,
    arguments: { parameters: options.parameters },
    serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
    onExit: options.exitHandler === false ? undefined : TEMPLATE.exitHandler,
    activeDeadlineSeconds: WORKFLOW_DEADLINE_SECONDS,
    securityContext: NON_ROOT_POD,
    // Pods of a successful run go at once; a failed run keeps them for its logs until the TTL.
    podGc: { strategy: WorkflowTemplateSpecPodGcStrategy.ON_WORKFLOW_SUCCESS },
    ttlStrategy: { secondsAfterSuccess: TTL_SECONDS.afterSuccess, secondsAfterFailure: TTL_SECONDS.afterFailure },
    workflowMetadata: { labels: { [LABEL.name]: options.name } },
    templates: options.exitHandler === false ? options.templates : [...options.templates, options.exitHandler ?? exitHandlerTemplate()],
  };
}
