/**
 * Who each pod runs as, and what that account may do: every pod template names an account that
 * exists (under templateRef nothing else would), every such account may report results to Argo's
 * controller, each push ServiceAccount carries its destination's source role, and the steps that
 * deliver to a destination need no run volume.
 */
import { type Context, DELIVERY_COMPONENTS, type Finding, finding, type KubeObject, list, podTemplates, type Template, templatePath } from './model';

/** The annotations the EKS pod identity webhook reads. */
const IRSA = {
  roleArn: 'eks.amazonaws.com/role-arn',
  audience: 'eks.amazonaws.com/audience',
  stsRegionalEndpoints: 'eks.amazonaws.com/sts-regional-endpoints',
} as const;

export function identityFindings(context: Context): Finding[] {
  return [...serviceAccountFindings(context), ...executorRbacFindings(context), ...pushIdentityFindings(context), ...deliveryVolumeFindings(context)];
}

/**
 * A push ServiceAccount's role is the destination's SOURCE role in the build account: it pulls the
 * build repositories and reaches the destination role itself. Annotating the destination role
 * instead would send the build registry pull to another partition's STS. Regional STS endpoints,
 * because GovCloud, China and the European Sovereign Cloud have no global one.
 */
function pushIdentityFindings(context: Context): Finding[] {
  const expected = context.options.pushIdentities ?? {};
  const accounts = context.objects.filter((o) => o.kind === 'ServiceAccount');
  return Object.entries(expected).flatMap(([name, identity]) => {
    const account = accounts.find((a) => a.metadata?.name === name);
    if (!account) return [];
    const annotations = account.metadata?.annotations ?? {};
    const wrong = (key: string, want: string) =>
      annotations[key] === want
        ? []
        : [
            finding(
              'push-identity',
              account,
              `metadata.annotations["${key}"]`,
              `is ${annotations[key] === undefined ? 'missing' : `"${annotations[key]}"`}; a push ServiceAccount must carry "${want}"`,
            ),
          ];
    return [...wrong(IRSA.roleArn, identity.roleArn), ...wrong(IRSA.audience, identity.audience), ...wrong(IRSA.stsRegionalEndpoints, 'true')];
  });
}

function isDelivery(t: Template): boolean {
  return (DELIVERY_COMPONENTS as readonly string[]).includes(t.metadata?.labels?.['app.kubernetes.io/component'] ?? '');
}

/**
 * Push and sync steps copy from the build registry: a run volume would only tie them to the node
 * that holds it (ReadWriteOnce), one after another.
 */
function deliveryVolumeFindings(context: Context): Finding[] {
  return podTemplates(context)
    .filter(({ template }) => isDelivery(template))
    .flatMap(({ wt, template }) =>
      (template.volumes ?? [])
        .filter((v) => v.persistentVolumeClaim !== undefined || (v as { ephemeral?: unknown }).ephemeral !== undefined)
        .map((v) =>
          finding(
            'push-volume',
            wt,
            `${templatePath(template)}.volumes[${v.name}]`,
            `a push or sync step mounts the volume "${v.name}"; it copies from the build registry and must run on any node (remove the volume)`,
          ),
        ),
    );
}

function serviceAccountFindings(context: Context): Finding[] {
  const known = context.names('ServiceAccount');
  const unknown = (name: string) =>
    `names ServiceAccount "${name}", which is neither emitted nor user-provided (emitted and user-provided: ${list([...known])})`;
  const out: Finding[] = [];
  for (const wt of context.workflows) {
    if (wt.spec?.serviceAccountName !== undefined && !known.has(wt.spec.serviceAccountName))
      out.push(finding('service-account', wt, 'spec.serviceAccountName', unknown(wt.spec.serviceAccountName)));
  }
  for (const { wt, template } of podTemplates(context)) {
    const serviceAccount = template.serviceAccountName;
    if (serviceAccount === undefined) {
      out.push(
        finding(
          'service-account',
          wt,
          templatePath(template),
          "runs a pod without serviceAccountName; under templateRef the WorkflowTemplate spec.serviceAccountName is ignored and the pod runs as the caller's account (set it on the template)",
        ),
      );
    } else if (!known.has(serviceAccount)) {
      out.push(finding('service-account', wt, `${templatePath(template)}.serviceAccountName`, unknown(serviceAccount)));
    }
  }
  for (const binding of context.objects.filter((o) => o.kind === 'RoleBinding')) {
    const subjects = (binding.subjects ?? []) as { kind?: string; name?: string }[];
    subjects.forEach((s, i) => {
      if (s.kind === 'ServiceAccount' && s.name !== undefined && !known.has(s.name))
        out.push(finding('service-account', binding, `subjects[${i}]`, unknown(s.name)));
    });
  }
  return out;
}

/** Service accounts bound to a Role that lets Argo's executor write WorkflowTaskResults. */
function executorAccounts(context: Context): Set<string> {
  const grants = (rules: unknown) =>
    ((rules ?? []) as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[]).some(
      (r) => r.apiGroups?.includes('argoproj.io') && r.resources?.includes('workflowtaskresults') && ['create', 'patch'].every((v) => r.verbs?.includes(v)),
    );
  const roles = new Set(context.objects.filter((o) => o.kind === 'Role' && grants(o.rules)).map((o) => o.metadata?.name));
  const accounts = new Set<string>();
  for (const binding of context.objects.filter((o) => o.kind === 'RoleBinding')) {
    const roleRef = binding.roleRef as { kind?: string; name?: string } | undefined;
    if (roleRef?.kind !== 'Role' || !roles.has(roleRef.name)) continue;
    for (const s of (binding.subjects ?? []) as { kind?: string; name?: string }[]) if (s.kind === 'ServiceAccount' && s.name) accounts.add(s.name);
  }
  return accounts;
}

function executorRbacFindings(context: Context): Finding[] {
  const bound = executorAccounts(context);
  const runAs = [
    ...podTemplates(context).map(({ wt, template }) => ({
      object: wt as KubeObject,
      path: `${templatePath(template)}.serviceAccountName`,
      name: template.serviceAccountName,
    })),
    ...context.workflows.map((wt) => ({ object: wt as KubeObject, path: 'spec.serviceAccountName', name: wt.spec?.serviceAccountName })),
  ];
  return runAs
    .filter((r): r is { object: KubeObject; path: string; name: string } => r.name !== undefined && !bound.has(r.name))
    .map((r) =>
      finding(
        'executor-rbac',
        r.object,
        r.path,
        `pods run as "${r.name}", which no RoleBinding grants argoproj.io workflowtaskresults create+patch; since Argo 3.6 its wait container exits 64 (add it to the executor RoleBinding)`,
      ),
    );
}
