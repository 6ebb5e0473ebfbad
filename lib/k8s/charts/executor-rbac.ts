import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { allTargets, EXECUTOR_ROLE, serviceAccountName, WORKFLOW_SERVICE_ACCOUNT } from '../../config/naming';
import { LABEL } from '../constants';
import type { FerryChartProps } from './props';

/**
 * The permission Argo's executor needs in every pipeline pod: reporting the step's outputs as a
 * WorkflowTaskResult. Since Argo 3.6 there is no fallback, and a pod whose service account lacks
 * it fails with exit 64 in its wait container. Bound to every account a pipeline pod runs as.
 */
export class ExecutorRbacChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const labels = { [LABEL.component]: 'executor' };
    const role = new kplus.Role(this, 'role', { metadata: { name: EXECUTOR_ROLE, labels } });
    role.allow(['create', 'patch'], kplus.ApiResource.custom({ apiGroup: 'argoproj.io', resourceType: 'workflowtaskresults' }));
    const binding = new kplus.RoleBinding(this, 'binding', { metadata: { name: EXECUTOR_ROLE, labels }, role });
    const names = [...allTargets(props.config).map(serviceAccountName), WORKFLOW_SERVICE_ACCOUNT];
    for (const name of names) {
      binding.addSubjects(kplus.ServiceAccount.fromServiceAccountName(this, `sa-${name}`, name, { namespaceName: props.config.cluster.namespace }));
    }
  }
}
