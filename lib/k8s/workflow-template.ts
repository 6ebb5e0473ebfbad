import type { Construct } from 'constructs';
import { WorkflowTemplate, type WorkflowTemplateSpec } from '../../imports/argoproj.io';
import { ANNOTATION, LABEL } from './constants';

export interface WorkflowTemplateOptions {
  readonly name: string;
  readonly component: string;
  /** Shown by the Argo UI on the template's page. */
  readonly description: string;
  readonly spec: WorkflowTemplateSpec;
}

export function workflowTemplate(scope: Construct, options: WorkflowTemplateOptions): WorkflowTemplate {
  return new WorkflowTemplate(scope, options.name, {
    metadata: { name: options.name, labels: { [LABEL.component]: options.component }, annotations: { [ANNOTATION.description]: options.description } },
    spec: options.spec,
  });
}
