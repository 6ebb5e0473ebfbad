/**
 * The pieces every step template is made of: its pod and container security contexts, resources,
 * volumes and the Argo fields that must sit on the template itself.
 *
 * Under `templateRef`, a WorkflowTemplate's `spec.serviceAccountName`, `spec.volumes` and
 * `spec.securityContext` are ignored: only the template travels. So each step template carries
 * its own service account, volumes and security context (this replaces the original pipeline's podSpecPatch).
 */
import {
  type WorkflowTemplateSpecTemplates,
  WorkflowTemplateSpecTemplatesActiveDeadlineSeconds,
  type WorkflowTemplateSpecTemplatesContainer,
  type WorkflowTemplateSpecTemplatesContainerEnv,
  WorkflowTemplateSpecTemplatesContainerResourcesLimits,
  WorkflowTemplateSpecTemplatesContainerResourcesRequests,
  type WorkflowTemplateSpecTemplatesContainerSecurityContext,
  type WorkflowTemplateSpecTemplatesInputsParameters,
  type WorkflowTemplateSpecTemplatesSecurityContext,
  type WorkflowTemplateSpecTemplatesVolumes,
} from '../../imports/argoproj.io';
import { ANNOTATION, INPUT, KANIKO_CAPABILITIES, LABEL, NON_ROOT_UID, type StepLimits, VOLUME } from './constants';

const RUNTIME_DEFAULT = { type: 'RuntimeDefault' };

/** Pod level: a fixed non-root user that also owns what it writes to the shared volume. */
export const NON_ROOT_POD: WorkflowTemplateSpecTemplatesSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NON_ROOT_UID,
  runAsGroup: NON_ROOT_UID,
  fsGroup: NON_ROOT_UID,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: RUNTIME_DEFAULT,
};

export const NON_ROOT_CONTAINER: WorkflowTemplateSpecTemplatesContainerSecurityContext = {
  runAsNonRoot: true,
  runAsUser: NON_ROOT_UID,
  runAsGroup: NON_ROOT_UID,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: RUNTIME_DEFAULT,
};

/**
 * Kaniko is the one exception: it unpacks the base image over its own root filesystem and runs
 * RUN steps there, which needs uid 0 and a writable root. Everything else stays narrowed: no
 * privilege escalation, not privileged, only the capabilities image builds need, seccomp on.
 * Only the main container runs as root; Argo's own containers in the pod keep their users.
 */
export const KANIKO_POD: WorkflowTemplateSpecTemplatesSecurityContext = { seccompProfile: RUNTIME_DEFAULT };

export const KANIKO_CONTAINER: WorkflowTemplateSpecTemplatesContainerSecurityContext = {
  runAsNonRoot: false,
  runAsUser: 0,
  runAsGroup: 0,
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: false,
  capabilities: { drop: ['ALL'], add: [...KANIKO_CAPABILITIES] },
  seccompProfile: RUNTIME_DEFAULT,
};

export function resources(limits: StepLimits): WorkflowTemplateSpecTemplatesContainer['resources'] {
  const requests = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, WorkflowTemplateSpecTemplatesContainerResourcesRequests.fromString(v)]));
  const limit = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, WorkflowTemplateSpecTemplatesContainerResourcesLimits.fromString(v)]));
  return { requests: requests(limits.requests), limits: limit(limits.limits) };
}

export function deadline(limits: StepLimits): WorkflowTemplateSpecTemplatesActiveDeadlineSeconds {
  return WorkflowTemplateSpecTemplatesActiveDeadlineSeconds.fromNumber(limits.activeDeadlineSeconds);
}

/** The per-run volume, named by the caller (see SOURCE_CLAIM_SUFFIX). */
export function workspaceVolume(): WorkflowTemplateSpecTemplatesVolumes {
  return { name: VOLUME.workspace, persistentVolumeClaim: { claimName: `{{inputs.parameters.${INPUT.workspaceClaim}}}` } };
}

export function emptyDirVolume(name: string): WorkflowTemplateSpecTemplatesVolumes {
  return { name, emptyDir: {} };
}

export const WORKSPACE_INPUT: WorkflowTemplateSpecTemplatesInputsParameters = {
  name: INPUT.workspaceClaim,
  description: 'PersistentVolumeClaim holding the checkout under source/',
};

export function env(values: Record<string, string>): WorkflowTemplateSpecTemplatesContainerEnv[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

export function input(name: string, description: string): WorkflowTemplateSpecTemplatesInputsParameters {
  return { name, description };
}

export function inputRef(name: string): string {
  return `{{inputs.parameters.${name}}}`;
}

/** A shell step in a small pinned image: the script is fixed, values come in through env only. */
export function shellContainer(image: string, script: string, extra: Partial<WorkflowTemplateSpecTemplatesContainer>): WorkflowTemplateSpecTemplatesContainer {
  return { image, command: ['/bin/sh', '-c'], args: [script], securityContext: NON_ROOT_CONTAINER, ...extra };
}

export interface StepOptions {
  readonly name: string;
  readonly description: string;
  readonly component: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccountName: string;
  readonly limits: StepLimits;
}

/** The fields every step template carries itself, because nothing on the WorkflowTemplate spec travels. */
export function step(options: StepOptions, body: WorkflowTemplateSpecTemplates): WorkflowTemplateSpecTemplates {
  return {
    name: options.name,
    metadata: { labels: { [LABEL.component]: options.component, ...options.labels }, annotations: { [ANNOTATION.description]: options.description } },
    serviceAccountName: options.serviceAccountName,
    activeDeadlineSeconds: deadline(options.limits),
    securityContext: NON_ROOT_POD,
    ...body,
  };
}
