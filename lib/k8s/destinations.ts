/**
 * What the verify and report steps learn about each destination: the final status of its push
 * task, and nothing else. A push that did not succeed may have no outputs at all (an Errored pod
 * never ran), and reading them leaves the run unresolved (argo-workflows#12869, #14337). The status
 * is enough: a push step succeeds only when ferry read the destination back, by tag and by digest,
 * and found the built digest.
 */
import type { WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters, WorkflowTemplateSpecTemplatesInputsParameters } from '../../imports/argoproj.io';
import type { FerryConfig, Target } from '../config/model';
import { imageName, pushTaskName } from '../config/naming';
import { INPUT } from './constants';
import { inputRef } from './pod';

/** Per-destination input of the verify and report templates. */
export function statusInput(target: Target): string {
  return `${pushTaskName(target)}-status`;
}

export function destinationInputs(config: FerryConfig): WorkflowTemplateSpecTemplatesInputsParameters[] {
  return config.destinations.map((d) => ({ name: statusInput(d), description: `final phase of the ${pushTaskName(d)} task (Succeeded, Failed or Error)` }));
}

/** `{{tasks.push-X.status}}`: set for every task that ended, however it ended. */
export function destinationArguments(config: FerryConfig): WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters[] {
  return config.destinations.map((d) => ({ name: statusInput(d), value: `{{tasks.${pushTaskName(d)}.status}}` }));
}

/** `name|image|status`, one line per destination. */
export function destinationLines(config: FerryConfig): string {
  const image = (d: Target) => `${imageName(d, inputRef(INPUT.imageRepository))}:${inputRef(INPUT.imageTag)}`;
  return config.destinations.map((d) => [d.name, image(d), inputRef(statusInput(d))].join('|')).join('\n');
}
