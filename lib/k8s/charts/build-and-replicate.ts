import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { SOURCE_CLAIM_SUFFIX, TEMPLATE, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import { buildAndReplicateTasks, deliveryParameters, entrySpec, workflowParam } from '../dag';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * The original pipeline's `build-docker` as a DAG: builds from the volume another workflow filled
 * (`<source_workflow>-source-code`, checkout under source/), leaves the image there as a tarball
 * and an OCI layout (as the original pipeline did), and delivers it to every destination from the build registry.
 */
export class BuildAndReplicateChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const tasks = buildAndReplicateTasks(props.config, {
      workspaceClaim: `${workflowParam(WORKFLOW_PARAM.sourceWorkflow)}-${SOURCE_CLAIM_SUFFIX}`,
      imageTag: workflowParam(WORKFLOW_PARAM.imageTag),
      // The original pipeline's contract: the image also lands on the source workflow's volume.
      buildTemplate: TEMPLATE.buildToVolume,
    });
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.buildAndReplicate,
      component: 'pipeline',
      description:
        'Builds from the source volume of another workflow and delivers the image, with one digest, to every destination. Digests: outputs of the build and push tasks, and the notify step.',
      spec: entrySpec({
        name: WORKFLOW_TEMPLATE.buildAndReplicate,
        parameters: [
          { name: WORKFLOW_PARAM.sourceWorkflow, description: `Workflow whose volume <name>-${SOURCE_CLAIM_SUFFIX} holds the checkout under source/.` },
          ...deliveryParameters(props.config),
          { name: WORKFLOW_PARAM.imageTag, description: 'Image tag. Required.' },
        ],
        templates: [{ name: TEMPLATE.main, dag: { tasks } }],
      }),
    });
  }
}
