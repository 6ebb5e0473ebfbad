/**
 * What the verify and report steps learn about each destination: one input pair (digest, status)
 * per push task, and the DESTINATIONS lines their scripts read (see scripts.ts).
 */
import { WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters, WorkflowTemplateSpecTemplatesInputsParameters } from '../../imports/argoproj.io';
import type { FerryConfig } from '../config/model';
import { imageName, pushTaskName } from '../config/naming';
import type { Target } from '../config/model';
import { INPUT, OUTPUT } from './constants';
import { inputRef } from './pod';

/** Per-destination inputs of the verify and report templates. */
export function digestInput(target: Target): string {
  return `${pushTaskName(target)}-digest`;
}
export function statusInput(target: Target): string {
  return `${pushTaskName(target)}-status`;
}

export function destinationInputs(config: FerryConfig): WorkflowTemplateSpecTemplatesInputsParameters[] {
  return config.destinations.flatMap((d) => [
    { name: digestInput(d), description: `digest ${d.name} reported (empty or unresolved when its push failed)` },
    { name: statusInput(d), description: `final phase of the ${pushTaskName(d)} task` },
  ]);
}

export function destinationArguments(config: FerryConfig): WorkflowTemplateSpecTemplatesDagTasksArgumentsParameters[] {
  return config.destinations.flatMap((d) => [
    { name: digestInput(d), value: `{{tasks.${pushTaskName(d)}.outputs.parameters.${OUTPUT.digest}}}` },
    { name: statusInput(d), value: `{{tasks.${pushTaskName(d)}.status}}` },
  ]);
}

/** `name|image|digest|status`, one line per destination. */
export function destinationLines(config: FerryConfig): string {
  const image = (d: FerryConfig['destinations'][number]) => `${imageName(d, inputRef(INPUT.imageRepository))}:${inputRef(INPUT.imageTag)}`;
  return config.destinations.map((d) => [d.name, image(d), inputRef(digestInput(d)), inputRef(statusInput(d))].join('|')).join('\n');
}
