import {
  buildImageName,
  imageName,
  PUSHER_REPOSITORY,
  pusherImage,
  pushTaskName,
  roleArn,
  serviceAccountName,
  sourceRoleArn,
  WORKFLOW_SERVICE_ACCOUNT,
} from '../../lib/config/naming';
import { createK8sApp } from '../../lib/k8s/app';
import { doctorTaskName } from '../../lib/k8s/charts/doctor';
import { LIMITS, PATH, RETRY, TEMPLATE, WORKFLOW_TEMPLATE } from '../../lib/k8s/constants';
import { argument, configWith, envOf, exampleConfig, type Json, manifests } from './helpers';

const config = exampleConfig();
const out = manifests(config);
const kaniko = out.template(WORKFLOW_TEMPLATE.kanikoBuild, TEMPLATE.build);
const entries = [WORKFLOW_TEMPLATE.pipeline, WORKFLOW_TEMPLATE.buildAndReplicate];
const mainTasks = (entry: string): Json[] => out.template(entry, TEMPLATE.main).dag.tasks;
const task = (entry: string, name: string) => mainTasks(entry).find((t) => t.name === name);
const argsOf = (template: Json): string[] => template.container.args;

describe('kaniko build template', () => {
  test('builds from the source volume, pushes to the build registry, reports the digest, and leaves no image on the volume', () => {
    const args = argsOf(kaniko);
    expect(kaniko.container.command).toEqual(['/kaniko/executor']);
    expect(args).toContain(`--context=dir://${PATH.source}/{{inputs.parameters.build_path}}`);
    expect(args).toContain(`--destination=${imageName(config.build, '{{inputs.parameters.image_repository}}')}:{{inputs.parameters.image_tag}}`);
    // Nothing reads an image file any more: the pushes copy from the build registry.
    expect(args.filter((a) => /^--(tar-path|oci-layout-path)=/.test(a))).toEqual([]);
    expect(args).toContain(`--digest-file=${PATH.digestFile}`);
    expect(args).toContain(`--cache-repo=${imageName(config.build, config.cacheRepository)}`);
    expect(args).toContain('--cache=true');
    expect(args.some((a) => /^--push-retry=\d+$/.test(a))).toBe(true);
    expect(kaniko.outputs.parameters).toEqual([expect.objectContaining({ name: 'digest', valueFrom: { path: PATH.digestFile } })]);
  });

  test('build-to-volume is the same build that also writes the tarball and the OCI layout onto the source volume', () => {
    const toVolume = out.template(WORKFLOW_TEMPLATE.kanikoBuild, TEMPLATE.buildToVolume);
    expect(argsOf(toVolume).filter((a) => !argsOf(kaniko).includes(a))).toEqual([`--tar-path=${PATH.imageTar}`, `--oci-layout-path=${PATH.imageLayout}`]);
    expect({ ...toVolume, name: undefined, container: { ...toVolume.container, args: undefined } }).toEqual({
      ...kaniko,
      name: undefined,
      container: { ...kaniko.container, args: undefined },
    });
    expect(task(WORKFLOW_TEMPLATE.buildAndReplicate, 'build').templateRef.template).toBe(TEMPLATE.buildToVolume);
    expect(task(WORKFLOW_TEMPLATE.pipeline, 'build').templateRef.template).toBe(TEMPLATE.build);
  });

  test('defaults to the maintained fork at a pinned version, and the image is configurable', () => {
    expect(kaniko.container.image).toMatch(/^ghcr\.io\/osscontainertools\/kaniko:v\d+\.\d+\.\d+$/);
    const custom = manifests(configWith({ 'shared.yaml': `repositories:\n  - name: ferry/demo-app\nimages:\n  kaniko: registry.example.com/kaniko:v9.9.9\n` }));
    expect(custom.template(WORKFLOW_TEMPLATE.kanikoBuild, TEMPLATE.build).container.image).toBe('registry.example.com/kaniko:v9.9.9');
  });

  test('carries its own service account and volumes, since nothing on the WorkflowTemplate spec travels with templateRef', () => {
    expect(kaniko.serviceAccountName).toBe(serviceAccountName(config.build));
    const volumeNames = kaniko.volumes.map((v: Json) => v.name);
    for (const mount of kaniko.container.volumeMounts) expect(volumeNames).toContain(mount.name);
    expect(out.workflowTemplate(WORKFLOW_TEMPLATE.kanikoBuild).spec.serviceAccountName).toBeUndefined();
  });

  test('is the one root exception, narrowed: no escalation, not privileged, ALL dropped but what builds need, seccomp on', () => {
    const sc = kaniko.container.securityContext;
    expect(sc.runAsUser).toBe(0);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.privileged).toBe(false);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect(sc.capabilities.add).not.toContain('SYS_ADMIN');
    expect(sc.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    // Only the main container is root: a pod-level runAsUser would also make Argo's wait container root.
    expect(kaniko.securityContext.runAsUser).toBeUndefined();
    expect(kaniko.metadata.annotations['workflows.argoproj.io/description']).toMatch(/root/);
  });
});

describe('push templates', () => {
  test.each(config.destinations.map((d) => [d.name, d] as const))(
    '%s: ferry copy from the build registry by digest, as its own push account, with the destination role on --to',
    (_name, d) => {
      const push = out.template(WORKFLOW_TEMPLATE.push, pushTaskName(d));
      expect(push.serviceAccountName).toBe(serviceAccountName(d));
      expect(push.container.image).toBe(pusherImage(config));
      expect(push.container.command).toEqual(['ferry', 'copy']);
      const args: string[] = push.container.args;
      const repo = '{{inputs.parameters.image_repository}}';
      expect(args.slice(0, 9)).toEqual([
        `${buildImageName(config, repo)}@{{inputs.parameters.expected_digest}}`,
        '--to',
        `${imageName(d, repo)}:{{inputs.parameters.image_tag}}=${roleArn(d)}`,
        '--expect-digest',
        '{{inputs.parameters.expected_digest}}',
        '--digest-file',
        PATH.digestFile,
        '--json',
        '--trust',
      ]);
      // The default chain (IRSA -> source role) and the build registry are in the build region.
      expect(envOf(push)).toEqual({ AWS_REGION: config.build.region, FERRY_TIMEOUT: String(LIMITS.push.activeDeadlineSeconds - 120) });
      expect(push.outputs.parameters[0]).toMatchObject({ name: 'digest', valueFrom: { path: PATH.digestFile } });
      expect(push.retryStrategy.backoff).toEqual({ duration: expect.any(String), factor: 2, cap: expect.any(String) });
      expect(Number(push.retryStrategy.limit)).toBeGreaterThan(0);
      // No exit-2 retries: bad input, a digest mismatch or a refused tag stay failed.
      expect(push.retryStrategy.expression).toBe('lastRetry.exitCode != "2"');
    },
  );

  test('no push mounts a persistent volume, nor takes one: they run in parallel on any node', () => {
    for (const d of config.destinations) {
      const push = out.template(WORKFLOW_TEMPLATE.push, pushTaskName(d));
      expect(push.volumes.filter((v: Json) => !v.emptyDir)).toEqual([]);
      expect(push.inputs.parameters.map((p: Json) => p.name)).not.toContain('workspace_claim');
    }
  });

  test('cluster-oidc destination: --trust cluster-oidc and nothing else', () => {
    const gov = config.destinations.find((d) => d.trust === 'cluster-oidc')!;
    expect(out.template(WORKFLOW_TEMPLATE.push, pushTaskName(gov)).container.args.slice(8)).toEqual(['--trust', 'cluster-oidc']);
  });

  test('outbound-federation destination: the token is minted at the build region STS, for the configured audience and duration', () => {
    const china = config.destinations.find((d) => d.trust === 'outbound-federation')!;
    const federation = config.outboundFederation!;
    expect(out.template(WORKFLOW_TEMPLATE.push, pushTaskName(china)).container.args.slice(8)).toEqual([
      '--trust',
      'outbound-federation',
      '--token-audience',
      federation.audience,
      '--token-region',
      config.build.region,
      '--token-duration',
      String(federation.tokenDurationSeconds),
    ]);
  });

  test('--token-fips for an outbound-federation destination when the build target is FIPS, and a changed audience and duration reach the args', () => {
    const fips = manifests(
      configWith({
        'build.yaml': require('node:fs')
          .readFileSync(require('node:path').join(__dirname, '..', '..', 'config', 'build.yaml'), 'utf8')
          .replace('region: us-east-1', 'region: us-east-1\nfips: true')
          .replace(
            /outboundFederation:\n {2}issuerUrl: (.*)\n/,
            'outboundFederation:\n  issuerUrl: $1\n  audience: ferry.example\n  tokenDurationSeconds: 900\n',
          ),
      }),
    );
    const args: string[] = fips.template(WORKFLOW_TEMPLATE.push, 'push-china').container.args;
    expect(args.slice(args.indexOf('--token-audience'))).toEqual([
      '--token-audience',
      'ferry.example',
      '--token-region',
      'us-east-1',
      '--token-duration',
      '900',
      '--token-fips',
    ]);
    expect(fips.template(WORKFLOW_TEMPLATE.push, 'push-govcloud').container.args).not.toContain('--token-fips');
  });
});

describe('notify templates', () => {
  test('the webhook URL comes from the configured Secret, never from a parameter', () => {
    for (const name of [TEMPLATE.report, TEMPLATE.alert]) {
      const t = out.template(WORKFLOW_TEMPLATE.notify, name);
      expect(envOf(t).SLACK_WEBHOOK_URL).toEqual({ secretKeyRef: { name: config.slack!.secretName, key: config.slack!.secretKey } });
      expect(JSON.stringify(t.inputs)).not.toMatch(/webhook|slack|url/i);
    }
    for (const wt of out.ofKind('WorkflowTemplate')) expect(JSON.stringify(wt.spec.arguments ?? {})).not.toMatch(/webhook|slack/i);
  });

  test('runs the pinned curl image', () => {
    expect(out.template(WORKFLOW_TEMPLATE.notify, TEMPLATE.report).container.image).toMatch(/^curlimages\/curl:\d+\.\d+\.\d+$/);
  });

  test('without Slack configured the steps stay and only log', () => {
    const noSlack = manifests(configWith({ 'shared.yaml': 'repositories:\n  - name: ferry/demo-app\n' }));
    expect(envOf(noSlack.template(WORKFLOW_TEMPLATE.notify, TEMPLATE.report)).SLACK_WEBHOOK_URL).toBeUndefined();
  });
});

describe('build-and-replicate DAG', () => {
  test.each(entries)('%s: one push per destination, in parallel after the build', (entry) => {
    const pushes = mainTasks(entry).filter((t) => t.templateRef?.name === WORKFLOW_TEMPLATE.push);
    expect(pushes.map((t) => t.name)).toEqual(config.destinations.map(pushTaskName));
    for (const p of pushes) {
      expect(p.depends).toBe('build');
      expect(p.templateRef.template).toBe(p.name);
      expect(argument(p, 'expected_digest')).toBe('{{tasks.build.outputs.parameters.digest}}');
    }
  });

  test('adding a partition file adds a push task, a template and a ServiceAccount', () => {
    const more = manifests(
      configWith({ 'aws-eusc.yaml': 'partition: aws-eusc\ndestinations:\n  - name: sovereign\n    account: "444444444444"\n    region: eusc-de-east-1\n' }),
    );
    const tasks = more.template(WORKFLOW_TEMPLATE.pipeline, TEMPLATE.main).dag.tasks.map((t: Json) => t.name);
    expect(tasks).toContain('push-sovereign');
    expect(tasks.filter((n: string) => n.startsWith('push-'))).toHaveLength(config.destinations.length + 1);
    const push = more.template(WORKFLOW_TEMPLATE.push, 'push-sovereign');
    expect(envOf(push).AWS_REGION).toBe(config.build.region);
    expect(push.container.args[2]).toMatch(
      /^444444444444\.dkr\.ecr\.eusc-de-east-1\.amazonaws\.eu\/.*=arn:aws-eusc:iam::444444444444:role\/ferry-pusher-sovereign$/,
    );
    expect(more.ofKind('ServiceAccount').map((s) => s.metadata.name)).toContain('ferry-pusher-sovereign');
  });

  test.each(entries)('%s: verify and notify wait for every push to end Succeeded, Failed or Errored', (entry) => {
    for (const name of ['verify', 'notify']) {
      const depends = task(entry, name).depends as string;
      for (const d of config.destinations) {
        const p = pushTaskName(d);
        expect(depends).toContain(`(${p}.Succeeded || ${p}.Failed || ${p}.Errored)`);
      }
    }
    expect(task(entry, 'notify').depends).toContain('(verify.Succeeded || verify.Failed || verify.Errored)');
    // The report failing (Slack down) must not turn a delivered image into a failed run.
    expect(task(entry, 'notify').continueOn).toEqual({ failed: true, error: true });
  });

  test.each(entries)('%s: verify and the report read every push STATUS and no push output; the built digest only behind build', (entry) => {
    for (const name of ['verify', 'notify']) {
      const t = task(entry, name);
      for (const d of config.destinations) expect(argument(t, `${pushTaskName(d)}-status`)).toBe(`{{tasks.${pushTaskName(d)}.status}}`);
      expect(JSON.stringify(t.arguments)).not.toMatch(/tasks\.push-[^.]+\.outputs/);
      expect(argument(t, 'expected_digest')).toBe('{{tasks.build.outputs.parameters.digest}}');
      expect(t.depends.split(' && ')[0]).toBe('build');
    }
  });

  test.each(entries)('%s: an onExit handler alerts when the run did not succeed', (entry) => {
    const spec = out.workflowTemplate(entry).spec;
    const handler = out.template(entry, spec.onExit);
    const step = handler.steps[0][0];
    expect(step.templateRef).toEqual({ name: WORKFLOW_TEMPLATE.notify, template: TEMPLATE.alert });
    expect(step.when).toBe('{{workflow.status}} != Succeeded');
  });

  test("keeps the original pipeline's parameters and its volume convention", () => {
    const spec = out.workflowTemplate(WORKFLOW_TEMPLATE.buildAndReplicate).spec;
    expect(spec.arguments.parameters.map((p: Json) => p.name)).toEqual(expect.arrayContaining(['build_path', 'image_tag', 'source_workflow']));
    for (const t of mainTasks(WORKFLOW_TEMPLATE.buildAndReplicate).filter((x) => argument(x, 'workspace_claim'))) {
      expect(argument(t, 'workspace_claim')).toBe('{{workflow.parameters.source_workflow}}-source-code');
    }
  });

  test('only configured repositories can be chosen', () => {
    for (const entry of entries) {
      const repo = out.workflowTemplate(entry).spec.arguments.parameters.find((p: Json) => p.name === 'image_repository');
      expect(repo.enum).toEqual(config.repositories.map((r) => r.name));
    }
  });

  test('with repository prefixes, any name can be chosen (created on its first push) and ferry-sync takes the repositories as a list', () => {
    const prefixed = manifests(configWith({ 'shared.yaml': 'repositories:\n  - name: ferry/demo-app\nrepositoryPrefixes:\n  - prefix: team-a/\n' }));
    for (const entry of entries) {
      const repo = prefixed.workflowTemplate(entry).spec.arguments.parameters.find((p: Json) => p.name === 'image_repository');
      expect(repo.enum).toBeUndefined();
      expect(repo.value).toBe('ferry/demo-app');
      expect(repo.description).toContain('team-a/');
    }
    const sync = prefixed.workflowTemplate(WORKFLOW_TEMPLATE.sync).spec;
    expect(sync.arguments.parameters.find((p: Json) => p.name === 'repositories').value).toBe('["ferry/demo-app"]');
    for (const task of sync.templates.find((t: Json) => t.name === TEMPLATE.main).dag.tasks) {
      expect(task.withParam).toBe('{{workflow.parameters.repositories}}');
      expect(task.withItems).toBeUndefined();
    }
    // The doctor accepts a repository under the prefix that its first push has not created yet.
    for (const d of config.destinations) {
      const args = prefixed.template(WORKFLOW_TEMPLATE.doctor, doctorTaskName(d)).container.args as string[];
      expect(args.slice(args.indexOf('--created-on-push'), args.indexOf('--created-on-push') + 2)).toEqual(['--created-on-push', 'team-a/']);
    }
    expect(out.template(WORKFLOW_TEMPLATE.doctor, doctorTaskName(config.destinations[0])).container.args).not.toContain('--created-on-push');
  });
});

describe('self-contained entry template', () => {
  const spec = out.workflowTemplate(WORKFLOW_TEMPLATE.pipeline).spec;

  test('needs only repo and revision', () => {
    const required = spec.arguments.parameters.filter((p: Json) => p.value === undefined).map((p: Json) => p.name);
    expect(required.sort()).toEqual(['repo', 'revision']);
  });

  test('makes a volume per run from config.workspace and runs every step on it', () => {
    const custom = configWith({
      'shared.yaml': 'repositories:\n  - name: ferry/demo-app\nworkspace:\n  size: 50Gi\n  storageClassName: efs\n  accessMode: ReadWriteMany\n',
    });
    const vct = manifests(custom).workflowTemplate(WORKFLOW_TEMPLATE.pipeline).spec.volumeClaimTemplates[0];
    expect(vct.spec).toEqual({ accessModes: ['ReadWriteMany'], storageClassName: 'efs', resources: { requests: { storage: '50Gi' } } });
    // Argo names the claim <workflow>-<template name>: every task must use exactly that.
    const claim = `{{workflow.name}}-${spec.volumeClaimTemplates[0].metadata.name}`;
    for (const t of mainTasks(WORKFLOW_TEMPLATE.pipeline)) if (argument(t, 'workspace_claim') !== undefined) expect(argument(t, 'workspace_claim')).toBe(claim);
  });

  test('clones first, then runs the same DAG with the tag the clone step settled', () => {
    const clone = task(WORKFLOW_TEMPLATE.pipeline, 'clone');
    expect(clone.template).toBe('clone');
    expect(task(WORKFLOW_TEMPLATE.pipeline, 'build').depends).toBe('clone');
    // build-and-replicate's build also leaves the image on its source volume (build-to-volume).
    const strip = (tasks: Json[]) =>
      tasks
        .filter((t) => t.name !== 'clone')
        .map((t) => ({
          ...t,
          depends: t.name === 'build' ? undefined : t.depends,
          templateRef: t.name === 'build' ? undefined : t.templateRef,
          arguments: undefined,
        }));
    expect(strip(mainTasks(WORKFLOW_TEMPLATE.pipeline))).toEqual(strip(mainTasks(WORKFLOW_TEMPLATE.buildAndReplicate)).map((t) => ({ ...t })));
    expect(argument(task(WORKFLOW_TEMPLATE.pipeline, 'build'), 'image_tag')).toBe('{{tasks.clone.outputs.parameters.image_tag}}');
  });

  test.each(entries)('%s: cleans up after itself and has a deadline', (entry) => {
    const s = out.workflowTemplate(entry).spec;
    // Pods of a successful run go at once; a failed run keeps its pods (and logs) until its TTL.
    expect(s.podGC).toEqual({ strategy: 'OnWorkflowSuccess' });
    expect(s.ttlStrategy.secondsAfterSuccess).toBeGreaterThan(0);
    expect(s.ttlStrategy.secondsAfterFailure).toBeGreaterThan(s.ttlStrategy.secondsAfterSuccess);
    expect(s.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(s.serviceAccountName).toBe(WORKFLOW_SERVICE_ACCOUNT);
  });
});

describe('pod hygiene', () => {
  const pods = out.podTemplates();

  test('every pod template: explicit command, pinned image, own service account, requests, limits and a deadline', () => {
    // clone (in two entries), build, build-to-volume, verify, report, alert, and one push, one sync and one doctor per destination.
    expect(pods.length).toBe(7 + 3 * config.destinations.length);
    for (const { template } of pods) {
      expect(template.container.command?.length).toBeGreaterThan(0);
      expect(template.container.image).toMatch(/:[\w][\w.-]*$|@sha256:[a-f0-9]{64}$/);
      expect(template.container.image).not.toMatch(/:latest$/);
      expect(template.serviceAccountName).toBeDefined();
      for (const kind of ['requests', 'limits']) expect(Object.keys(template.container.resources[kind]).sort()).toEqual(['cpu', 'memory']);
      expect(template.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(template.metadata.annotations['workflows.argoproj.io/description']).toBeTruthy();
      expect(template.metadata.labels['app.kubernetes.io/component']).toBeTruthy();
    }
  });

  test('all but Kaniko: non-root, no escalation, read-only root, ALL dropped, seccomp RuntimeDefault', () => {
    for (const { template } of pods.filter(({ wt }) => wt !== WORKFLOW_TEMPLATE.kanikoBuild)) {
      expect(template.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(template.securityContext.runAsUser).toBeGreaterThan(0);
      expect(template.container.securityContext).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(template.container.securityContext.capabilities.add).toBeUndefined();
    }
  });

  test('WorkflowTemplates are labelled and described for the Argo UI', () => {
    for (const wt of out.ofKind('WorkflowTemplate')) {
      expect(wt.metadata.annotations['workflows.argoproj.io/description'].length).toBeGreaterThan(20);
      expect(wt.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'ferry', 'app.kubernetes.io/component': expect.any(String) });
    }
    for (const entry of entries) for (const p of out.workflowTemplate(entry).spec.arguments.parameters) expect(p.description).toBeTruthy();
  });

  test('push and sync retries cap each wait (backoff.cap) and set no total deadline (maxDuration) that could cut an attempt short', () => {
    const delivery = out.podTemplates().filter(({ wt }) => wt === WORKFLOW_TEMPLATE.push || wt === WORKFLOW_TEMPLATE.sync);
    expect(delivery.length).toBe(2 * config.destinations.length);
    for (const { template } of delivery) {
      expect(template.retryStrategy.backoff.cap).toBe(
        template.metadata.labels['app.kubernetes.io/component'] === 'push' ? RETRY.push.backoffCap : RETRY.sync.backoffCap,
      );
      expect(template.retryStrategy.backoff).not.toHaveProperty('maxDuration');
    }
  });

  test('no singular synchronization mutex or semaphore, which Argo v4 removed', () => {
    for (const wt of out.ofKind('WorkflowTemplate')) expect(JSON.stringify(wt)).not.toMatch(/"(mutex|semaphore)":/);
  });
});

describe('build-pusher entry', () => {
  const buildPusher = () => out.workflowTemplate(WORKFLOW_TEMPLATE.buildPusher);
  const parameter = (name: string) => buildPusher().spec.arguments.parameters.find((p: Json) => p.name === name);

  test('builds exactly the image the push templates run', () => {
    const tasks = out.template(WORKFLOW_TEMPLATE.buildPusher, TEMPLATE.main).dag.tasks as Json[];
    expect(tasks.map((t) => t.name)).toEqual(['clone', 'build']);
    const build = tasks.find((t) => t.name === 'build');
    expect(build.templateRef).toEqual({ name: WORKFLOW_TEMPLATE.kanikoBuild, template: TEMPLATE.build });
    expect(build.depends).toBe('clone');
    // What Kaniko's --destination resolves to, with the entry's only allowed values filled in.
    const destination = argsOf(kaniko)
      .find((a) => a.startsWith('--destination='))!
      .slice('--destination='.length)
      .replace('{{inputs.parameters.image_repository}}', parameter('image_repository').enum[0])
      .replace('{{inputs.parameters.image_tag}}', parameter('image_tag').enum[0]);
    expect(parameter('image_repository').enum).toEqual([PUSHER_REPOSITORY]);
    expect(parameter('image_tag').enum).toHaveLength(1);
    expect(destination).toBe(pusherImage(config));
    for (const d of config.destinations) expect(out.template(WORKFLOW_TEMPLATE.push, pushTaskName(d)).container.image).toBe(destination);
  });

  test('is not emitted when the config names its own pusher image', () => {
    const own = configWith({ 'shared.yaml': 'repositories:\n  - name: ferry/demo-app\nimages:\n  pusher: registry.example.com/tools/ferry:1.0.0\n' });
    expect(manifests(own).objects.map((o) => o.metadata?.name)).not.toContain(WORKFLOW_TEMPLATE.buildPusher);
    expect(createK8sApp(own).charts.map((c) => c.node.id)).not.toContain('build-pusher');
  });
});

describe('the ferry-doctor entry: the push step identity, read-only, per destination', () => {
  test.each(config.destinations.map((d) => [d.name]))(
    '%s: runs ferry doctor path as the push ServiceAccount, with the push step trust flags and env',
    (name) => {
      const d = config.destinations.find((x) => x.name === name)!;
      const push = out.template(WORKFLOW_TEMPLATE.push, pushTaskName(d));
      const doctor = out.template(WORKFLOW_TEMPLATE.doctor, doctorTaskName(d));
      expect(doctor.serviceAccountName).toBe(push.serviceAccountName);
      expect(doctor.container.image).toBe(push.container.image);
      expect(doctor.container.command).toEqual(['ferry', 'doctor', 'path']);
      expect(doctor.container.env.map((e: Json) => e.name)).toEqual(push.container.env.map((e: Json) => e.name));
      const args: string[] = doctor.container.args;
      // The build repository carries the role the pod must hold; the destination and its role are the push step's.
      expect(args[0]).toBe(`${buildImageName(config, '{{inputs.parameters.image_repository}}')}=${sourceRoleArn(config, d)}`);
      expect(args[2]).toBe(push.container.args[2].replace(/:\{\{inputs\.parameters\.image_tag\}\}/, ''));
      const trust = push.container.args.slice(push.container.args.indexOf('--trust'));
      expect(args.slice(args.indexOf('--trust'))).toEqual(trust);
      expect(args).toEqual(expect.arrayContaining(['--expect-issuer', config.cluster.issuerUrl, '--expect-audience', config.cluster.audience]));
      // A doctor reports mistakes: no retry, no run volume.
      expect(doctor.retryStrategy).toBeUndefined();
      expect(doctor.volumes.filter((v: Json) => !v.emptyDir)).toEqual([]);
      expect(doctor.container.securityContext.runAsNonRoot).toBe(true);
    },
  );

  test('destination (all or one) picks the tasks; repository defaults to the first configured one', () => {
    const wt = out.workflowTemplate(WORKFLOW_TEMPLATE.doctor);
    const params = Object.fromEntries(wt.spec.arguments.parameters.map((p: Json) => [p.name, p]));
    expect(params.destination).toMatchObject({ value: 'all', enum: ['all', ...config.destinations.map((d) => d.name)] });
    expect(params.repository).toMatchObject({ value: config.repositories[0].name, enum: config.repositories.map((r) => r.name) });
    expect(wt.spec.onExit).toBeUndefined();
    const tasks = out.template(WORKFLOW_TEMPLATE.doctor, TEMPLATE.main).dag.tasks;
    expect(tasks.map((t: Json) => t.name)).toEqual(config.destinations.map(doctorTaskName));
  });
});
