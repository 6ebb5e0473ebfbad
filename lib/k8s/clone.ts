/**
 * The clone step of the entries that bring their own volume (ferry-pipeline, ferry-build-pusher):
 * a shallow checkout of the entry's repo and revision into a fresh per-run volume.
 */
import {
  type WorkflowTemplateSpec,
  type WorkflowTemplateSpecTemplates,
  type WorkflowTemplateSpecTemplatesDagTasks,
  type WorkflowTemplateSpecVolumeClaimTemplates,
  WorkflowTemplateSpecVolumeClaimTemplatesSpecResourcesRequests,
} from '../../imports/argoproj.io';
import type { FerryConfig } from '../config/model';
import { GIT_CREDENTIALS_SECRET, WORKFLOW_SERVICE_ACCOUNT } from '../config/naming';
import { INPUT, LIMITS, OUTPUT, PATH, RETRY, SOURCE_CLAIM_SUFFIX, TASK, TEMPLATE, VOLUME, WORKFLOW_PARAM } from './constants';
import { type DagSources, workflowParam } from './dag';
import { emptyDirVolume, env, input, inputRef, resources, shellContainer, step, WORKSPACE_INPUT, workspaceVolume } from './pod';
import { retryStrategy } from './retry';
import { CLONE_SCRIPT } from './scripts';

// Argo names a volumeClaimTemplate's claim `<workflow name>-<template name>`.
const RUN_CLAIM = `{{workflow.name}}-${SOURCE_CLAIM_SUFFIX}`;

/** The clone task of an entry that brings its own volume: the entry's repo and revision into it. */
export const CLONE_TASK: WorkflowTemplateSpecTemplatesDagTasks = {
  name: TASK.clone,
  template: TEMPLATE.clone,
  arguments: {
    parameters: [
      { name: INPUT.workspaceClaim, value: RUN_CLAIM },
      { name: INPUT.repo, value: workflowParam(WORKFLOW_PARAM.repo) },
      { name: INPUT.revision, value: workflowParam(WORKFLOW_PARAM.revision) },
      { name: INPUT.imageTag, value: workflowParam(WORKFLOW_PARAM.imageTag) },
    ],
  },
};

/** What builds after CLONE_TASK read: its volume, and the tag it settled. */
export const CLONED_SOURCES: DagSources = {
  workspaceClaim: RUN_CLAIM,
  imageTag: `{{tasks.${TASK.clone}.outputs.parameters.${OUTPUT.imageTag}}}`,
  after: TASK.clone,
};

/** A fresh volume per run, freed whether the run succeeded or not. */
export function runVolume(config: FerryConfig): Pick<WorkflowTemplateSpec, 'volumeClaimTemplates' | 'volumeClaimGc'> {
  return { volumeClaimTemplates: [workspaceClaimTemplate(config)], volumeClaimGc: { strategy: 'OnWorkflowCompletion' } };
}

function workspaceClaimTemplate(config: FerryConfig): WorkflowTemplateSpecVolumeClaimTemplates {
  return {
    metadata: { name: SOURCE_CLAIM_SUFFIX },
    spec: {
      accessModes: [config.workspace.accessMode],
      storageClassName: config.workspace.storageClassName,
      resources: { requests: { storage: WorkflowTemplateSpecVolumeClaimTemplatesSpecResourcesRequests.fromString(config.workspace.size) } },
    },
  };
}

export function cloneTemplate(config: FerryConfig): WorkflowTemplateSpecTemplates {
  return step(
    {
      name: TEMPLATE.clone,
      description: 'Shallow clone of one revision into the run volume.',
      component: 'clone',
      serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
      limits: LIMITS.clone,
    },
    {
      inputs: {
        parameters: [
          WORKSPACE_INPUT,
          input(INPUT.repo, 'git URL'),
          input(INPUT.revision, 'branch, tag or commit'),
          input(INPUT.imageTag, 'image tag, or empty for the commit'),
        ],
      },
      volumes: [
        workspaceVolume(),
        emptyDirVolume(VOLUME.out),
        emptyDirVolume(VOLUME.tmp),
        // Optional: public repositories need no Secret.
        { name: VOLUME.gitCredentials, secret: { secretName: GIT_CREDENTIALS_SECRET, optional: true, defaultMode: 0o440 } },
      ],
      container: shellContainer(config.images.git, CLONE_SCRIPT, {
        env: env({
          REPO: inputRef(INPUT.repo),
          REVISION: inputRef(INPUT.revision),
          IMAGE_TAG: inputRef(INPUT.imageTag),
          SOURCE_DIR: PATH.source,
          OUT_DIR: PATH.out,
          GIT_CREDENTIALS_DIR: PATH.gitCredentials,
          HOME: PATH.tmp,
        }),
        volumeMounts: [
          { name: VOLUME.workspace, mountPath: PATH.workspace },
          { name: VOLUME.out, mountPath: PATH.out },
          { name: VOLUME.tmp, mountPath: PATH.tmp },
          { name: VOLUME.gitCredentials, mountPath: PATH.gitCredentials, readOnly: true },
        ],
        resources: resources(LIMITS.clone),
      }),
      outputs: {
        parameters: [
          { name: OUTPUT.commit, description: 'the commit built', valueFrom: { path: PATH.commitFile } },
          { name: OUTPUT.imageTag, description: 'the image tag of this run', valueFrom: { path: PATH.imageTagFile } },
        ],
      },
      retryStrategy: retryStrategy(RETRY.clone),
    },
  );
}
