import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { CLONE_TASK, CLONED_SOURCES, cloneTemplate, runVolume } from '../clone';
import { TEMPLATE, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import { buildAndReplicateTasks, deliveryParameters, entrySpec } from '../dag';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * The self-contained entry: a fresh volume per run, a git clone, then the same DAG as
 * build-and-replicate. `argo submit --from workflowtemplate/ferry-pipeline -p repo=... -p revision=...`
 */
export class PipelineChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const tasks = buildAndReplicateTasks(props.config, CLONED_SOURCES);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.pipeline,
      component: 'pipeline',
      description:
        'Clones a git revision, builds it with Kaniko and delivers the image, with one digest, to every destination. Digests: outputs of the build and push tasks, and the notify step.',
      spec: {
        ...entrySpec({
          name: WORKFLOW_TEMPLATE.pipeline,
          parameters: [
            { name: WORKFLOW_PARAM.repo, description: 'Git URL to clone (https; private repositories read the ferry-git-credentials Secret).' },
            { name: WORKFLOW_PARAM.revision, description: 'Branch, tag or commit to build.' },
            ...deliveryParameters(props.config),
            { name: WORKFLOW_PARAM.imageTag, value: '', description: 'Image tag. Empty: the first 12 characters of the commit.' },
          ],
          templates: [{ name: TEMPLATE.main, dag: { tasks: [CLONE_TASK, ...tasks] } }, cloneTemplate(props.config)],
        }),
        ...runVolume(props.config),
      },
    });
  }
}
