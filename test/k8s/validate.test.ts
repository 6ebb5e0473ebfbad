import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createK8sApp } from '../../lib/k8s/app';
import { dependsOperands, type Finding, formatFinding, type KubeObject, type RuleId, validate } from '../../lib/k8s/validate';
import { userProvidedObjects, validateOptionsFor } from '../../lib/k8s/validate/config';
import { dependsGuaranteesSuccess } from '../../lib/k8s/validate/dag';
import { argoDurationSeconds, backoffWaits } from '../../lib/k8s/validate/retry';
import { ARGO_CRDS, validateArgoObject, validateWorkflowTemplate } from '../../lib/k8s/validate/schema';
import { validatorCode } from '../../lib/k8s/validate/schema-gen';
import { exampleConfig, type Json, manifests } from './helpers';

const config = exampleConfig();
const userProvided = userProvidedObjects(config);

/** The real output with one defect put in by `change`. */
function broken(change: (find: Finder) => void): KubeObject[] {
  const out = manifests(config);
  const objects = out.objects as Json[];
  change({
    objects,
    wt: (name) => objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === name),
    template: (wt, name) => objects.find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === wt).spec.templates.find((t: Json) => t.name === name),
    task: (wt, name) =>
      objects
        .find((o) => o.kind === 'WorkflowTemplate' && o.metadata.name === wt)
        .spec.templates.find((t: Json) => t.name === 'main')
        .dag.tasks.find((t: Json) => t.name === name),
  });
  return objects;
}

interface Finder {
  objects: Json[];
  wt(name: string): Json;
  template(wt: string, name: string): Json;
  task(wt: string, name: string): Json;
}

function findings(objects: KubeObject[], provided = userProvided): Finding[] {
  return validate(objects, { ...validateOptionsFor(config), userProvided: provided, schema: false });
}

function only(rule: RuleId, list: Finding[]): Finding[] {
  expect(list.map((f) => f.rule)).toEqual(list.map(() => rule));
  expect(list.length).toBeGreaterThan(0);
  return list;
}

describe('the real output', () => {
  test('has no findings, schema included', () => {
    expect(validate(manifests(config).objects, validateOptionsFor(config))).toEqual([]);
  });

  test('nor do the files written by synth', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-k8s-synth-'));
    createK8sApp(config, { outdir }).synth();
    const objects = fs
      .readdirSync(outdir)
      .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(outdir, file), 'utf8')).map((d) => d.toJS() as KubeObject));
    expect(objects.length).toBe(manifests(config).objects.length);
    expect(validate(objects, validateOptionsFor(config))).toEqual([]);
  });

  test('a finding prints as one cdk-nag-like line: where, which rule, what to do', () => {
    const line = formatFinding({
      rule: 'depends',
      object: 'WorkflowTemplate/ferry-pipeline',
      path: 'spec.templates[main].dag.tasks[verify].depends',
      message: 'names task "x"',
    });
    expect(line).toBe('[Error at WorkflowTemplate/ferry-pipeline spec.templates[main].dag.tasks[verify].depends] Argo-depends: names task "x"');
  });
});

describe('template-ref', () => {
  test('a templateRef to a WorkflowTemplate that is not emitted', () => {
    const [f] = only('template-ref', findings(broken((x) => (x.task('ferry-pipeline', 'notify').templateRef.name = 'ferry-slack-notification'))));
    expect(f).toMatchObject({ object: 'WorkflowTemplate/ferry-pipeline', path: 'spec.templates[main].dag.tasks[notify].templateRef' });
    expect(f.message).toMatch(/"ferry-slack-notification", which is not emitted/);
  });

  test("a templateRef to a template its WorkflowTemplate does not have (the original pipeline's build-notification)", () => {
    const [f] = only('template-ref', findings(broken((x) => (x.task('ferry-build-and-replicate', 'notify').templateRef.template = 'build-notification'))));
    expect(f.message).toMatch(/template "build-notification" in ferry-notify, which has no such template \(it has: report, alert\)/);
  });

  test('a local template or an onExit that does not exist', () => {
    const list = findings(
      broken((x) => {
        x.task('ferry-pipeline', 'clone').template = 'git-clone';
        x.wt('ferry-build-and-replicate').spec.onExit = 'notify-on-exit';
      }),
    );
    expect(only('template-ref', list).map((f) => f.path)).toEqual(['spec.onExit', 'spec.templates[main].dag.tasks[clone].template']);
  });
});

test('undeclared-input: a {{inputs.parameters.X}} the template does not declare', () => {
  const [f] = only(
    'undeclared-input',
    findings(broken((x) => x.template('ferry-push', 'push-govcloud').container.args.push('--tag', '{{inputs.parameters.image-tag}}'))),
  );
  expect(f).toMatchObject({ object: 'WorkflowTemplate/ferry-push', path: 'spec.templates[push-govcloud]' });
  expect(f.message).toMatch(/\{\{inputs.parameters.image-tag\}\}.*declared: image_repository, image_tag, expected_digest/);
});

test('missing-argument: a caller that does not supply a required input', () => {
  const [f] = only(
    'missing-argument',
    findings(
      broken((x) => {
        const t = x.task('ferry-pipeline', 'push-china');
        t.arguments.parameters = t.arguments.parameters.filter((p: Json) => p.name !== 'expected_digest');
      }),
    ),
  );
  expect(f.message).toMatch(/calls ferry-push\/push-china without its required input "expected_digest"/);
});

test('unknown-argument: an argument the template does not take (a typo that Argo ignores)', () => {
  const [f] = only('unknown-argument', findings(broken((x) => x.task('ferry-pipeline', 'build').arguments.parameters.push({ name: 'buildpath', value: '.' }))));
  expect(f.message).toMatch(/passes "buildpath", which ferry-kaniko-build\/build does not declare/);
});

test('undeclared-workflow-parameter: a referenced template reading a parameter only one entry declares', () => {
  // source_workflow exists in build-and-replicate, not in the entries that clone their own source,
  // which reach the same template.
  const list = only(
    'undeclared-workflow-parameter',
    findings(
      broken(
        (x) => (x.template('ferry-kaniko-build', 'build').volumes[0].persistentVolumeClaim.claimName = '{{workflow.parameters.source_workflow}}-source-code'),
      ),
    ),
  );
  expect(list.map((f) => f.object).sort()).toEqual(['WorkflowTemplate/ferry-build-pusher', 'WorkflowTemplate/ferry-pipeline']);
  for (const f of list) expect(f.path).toBe('spec.templates[build] of ferry-kaniko-build');
});

describe('depends', () => {
  test('naming a missing task', () => {
    const [f] = only('depends', findings(broken((x) => (x.task('ferry-pipeline', 'verify').depends += ' && (crane.Succeeded || crane.Failed)'))));
    expect(f.message).toMatch(/names task "crane", which this DAG does not have/);
  });

  test('testing an unknown result', () => {
    const [f] = only(
      'depends',
      findings(
        broken(
          (x) => (x.task('ferry-pipeline', 'verify').depends = x.task('ferry-pipeline', 'verify').depends.replace('push-china.Errored', 'push-china.Error')),
        ),
      ),
    );
    expect(f.message).toMatch(/"push-china.Error", which is not a task result/);
  });

  test('an expression that does not parse', () => {
    const list = findings(broken((x) => (x.task('ferry-pipeline', 'build').depends = 'clone &&')));
    // The build's own {{tasks.clone...}} references then have no ancestor either.
    expect(list.filter((f) => f.rule === 'depends').map((f) => f.message)).toEqual([expect.stringMatching(/"clone &&" is not a depends expression/)]);
  });

  test('the parser keeps operands and rejects malformed input', () => {
    expect(dependsOperands('(a.Succeeded || a-b.Failed) && !c')).toEqual([
      { task: 'a', result: 'Succeeded' },
      { task: 'a-b', result: 'Failed' },
      { task: 'c' },
    ]);
    for (const bad of ['a ||', '(a', 'a)', 'a b', '&& a', 'a.Succeeded.x']) expect(dependsOperands(bad)).toBeUndefined();
  });
});

test('task-reference: {{tasks.X}} of a task this one does not wait for, or an output X lacks', () => {
  const list = only(
    'task-reference',
    findings(
      broken((x) => {
        x.task('ferry-pipeline', 'verify').depends = 'push-china.Succeeded';
        x.task('ferry-pipeline', 'push-china').arguments.parameters.find((p: Json) => p.name === 'expected_digest').value =
          '{{tasks.build.outputs.parameters.image-digest}}';
      }),
    ),
  );
  expect(list.map((f) => f.message)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/\{\{tasks.push-govcloud.status\}\}, but "push-govcloud" is not a task this one depends on/),
      expect.stringMatching(/ferry-kaniko-build\/build has no output "image-digest"/),
    ]),
  );
});

describe('service-account', () => {
  test('a template running as an account that is neither emitted nor user-provided', () => {
    const [f] = only(
      'service-account',
      findings(broken((x) => (x.template('ferry-push', 'push-china').serviceAccountName = 'ferry-pusher-beijing'))).filter((f) => f.rule !== 'executor-rbac'),
    );
    expect(f.message).toMatch(/"ferry-pusher-beijing", which is neither emitted nor user-provided/);
  });

  test('a pod template without its own account (the original pipeline relied on spec.serviceAccountName)', () => {
    const [f] = only('service-account', findings(broken((x) => delete x.template('ferry-push', 'push-china').serviceAccountName)));
    expect(f.message).toMatch(/under templateRef the WorkflowTemplate spec.serviceAccountName is ignored/);
  });
});

describe('secret', () => {
  test('a Secret that is not documented as user-provided', () => {
    const [f] = only(
      'secret',
      findings(
        manifests(config).objects,
        userProvided.filter((o) => o.name !== config.slack!.secretName),
      ),
    );
    expect(f.message).toMatch(new RegExp(`Secret "${config.slack!.secretName}"`));
  });

  test('a misspelled Secret name', () => {
    const [f] = only('secret', findings(broken((x) => (x.template('ferry-pipeline', 'clone').volumes[3].secret.secretName = 'git-credentials'))));
    expect(f.path).toMatch(/volumes\[3\]\.secret$/);
  });
});

test('template-volume: a mount served by spec-level volumes, which templateRef drops', () => {
  const [f] = only(
    'template-volume',
    findings(
      broken((x) => {
        const t = x.template('ferry-kaniko-build', 'build');
        x.wt('ferry-kaniko-build').spec.volumes = [t.volumes[0]];
        t.volumes = t.volumes.slice(1);
      }),
    ),
  );
  expect(f.message).toMatch(/ignored when the template is reached through templateRef/);
});

test('executor-rbac: an account a pod runs as without the executor binding', () => {
  const [f] = only(
    'executor-rbac',
    findings(
      broken((x) => {
        const binding = x.objects.find((o) => o.kind === 'RoleBinding');
        binding.subjects = binding.subjects.filter((s: Json) => s.name !== 'ferry-pusher-govcloud');
      }),
    ),
  );
  expect(f).toMatchObject({ object: 'WorkflowTemplate/ferry-push', path: 'spec.templates[push-govcloud].serviceAccountName' });
});

test.each(ARGO_CRDS.map((crd) => [crd.version, crd] as const))(
  'the committed validation code of %s is what npm run import makes from the vendored CRDs',
  (_version, crd) => {
    expect(fs.readFileSync(crd.validatorFile, 'utf8') === validatorCode(crd)).toBe(true);
  },
);

describe('schema (vendored CRDs, Argo v4.1.2 and v3.7.18)', () => {
  const wt = () => JSON.parse(JSON.stringify(manifests(config).workflowTemplate('ferry-pipeline')));

  test('the singular mutex that v4 removed', () => {
    const object = { ...wt(), spec: { ...wt().spec, synchronization: { mutex: { name: 'one-at-a-time' } } } };
    expect(validateWorkflowTemplate(object)).toEqual([{ version: 'v4.1.2', path: '/spec/synchronization', message: 'unknown field "mutex"' }]);
    expect(validateWorkflowTemplate({ ...wt(), spec: { ...wt().spec, synchronization: { mutexes: [{ name: 'one-at-a-time' }] } } })).toEqual([]);
  });

  test('a misspelled field, which the API server would silently drop', () => {
    const object = wt();
    object.spec.templates[1].serviceAcountName = object.spec.templates[1].serviceAccountName;
    const problems = validateWorkflowTemplate(object);
    expect(problems.map((p) => p.version)).toEqual(['v4.1.2', 'v3.7.18']);
    expect(problems[0]).toMatchObject({ path: '/spec/templates/1', message: 'unknown field "serviceAcountName"' });
  });

  test('a wrong type, reported through lint', () => {
    const object = wt();
    object.spec.ttlStrategy.secondsAfterSuccess = '1d';
    const list = validate([object], { userProvided, schema: true }).filter((f) => f.rule === 'schema');
    expect(list.map((f) => f.path)).toEqual(['/spec/ttlStrategy/secondsAfterSuccess', '/spec/ttlStrategy/secondsAfterSuccess']);
    expect(list[0].message).toMatch(/v4.1.2 WorkflowTemplate schema: must be integer/);
  });
});

describe('unsafe-output: no task reads outputs of a task that may not have succeeded', () => {
  test('the old shape: verify reading a push digest while it runs after Failed or Errored pushes', () => {
    const list = only(
      'unsafe-output',
      findings(
        broken((x) => {
          const verify = x.task('ferry-pipeline', 'verify');
          verify.arguments.parameters.find((p: Json) => p.name === 'push-china-status').value = '{{tasks.push-china.outputs.parameters.digest}}';
        }),
      ),
    );
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ object: 'WorkflowTemplate/ferry-pipeline', path: 'spec.templates[main].dag.tasks[verify]' });
    expect(list[0].message).toMatch(/reads \{\{tasks.push-china.outputs.parameters.digest\}\}, but its depends lets it run when "push-china" did not succeed/);
  });

  test('the built digest without "build" in depends: with no destinations, verify would run after a failed build', () => {
    const [f] = only(
      'unsafe-output',
      findings(
        broken(
          (x) => (x.task('ferry-build-and-replicate', 'verify').depends = x.task('ferry-build-and-replicate', 'verify').depends.replace(/^build && /, '')),
        ),
      ),
    );
    expect(f.message).toMatch(/\{\{tasks.build.outputs.parameters.digest\}\}/);
  });

  test('what guarantees success, and what does not', () => {
    expect(dependsGuaranteesSuccess('build', 'build')).toBe(true);
    expect(dependsGuaranteesSuccess('build.Succeeded && (a.Failed || a.Errored)', 'build')).toBe(true);
    expect(dependsGuaranteesSuccess('a && build', 'build')).toBe(true);
    expect(dependsGuaranteesSuccess('(build.Succeeded || build.Failed || build.Errored)', 'build')).toBe(false);
    expect(dependsGuaranteesSuccess('build || a', 'build')).toBe(false);
    expect(dependsGuaranteesSuccess('!build.Failed', 'build')).toBe(false); // Errored and Omitted pass it
    expect(dependsGuaranteesSuccess('a', 'build')).toBe(false);
  });

  test('success through another task: reading clone after "build" (which needs clone) is safe, after a push that ran anyway is not', () => {
    expect(findings(manifests(config).objects).filter((f) => f.rule === 'unsafe-output')).toEqual([]);
    const [f] = only('unsafe-output', findings(broken((x) => (x.task('ferry-pipeline', 'build').depends = '(clone.Succeeded || clone.Failed)'))));
    expect(f.path).toBe('spec.templates[main].dag.tasks[build]');
  });

  test('a `when` that is exactly "X succeeded" guards, one with anything around it does not', () => {
    const guarded = broken((x) => {
      const verify = x.task('ferry-pipeline', 'verify');
      verify.arguments.parameters.find((p: Json) => p.name === 'push-china-status').value = '{{tasks.push-china.outputs.parameters.digest}}';
      verify.when = "'{{tasks.push-china.status}}' == Succeeded";
    });
    expect(findings(guarded).filter((f) => f.rule === 'unsafe-output')).toEqual([]);
    const loose = broken((x) => {
      const verify = x.task('ferry-pipeline', 'verify');
      verify.arguments.parameters.find((p: Json) => p.name === 'push-china-status').value = '{{tasks.push-china.outputs.parameters.digest}}';
      verify.when = "'{{tasks.push-china.status}}' == Failed || '{{tasks.push-china.status}}' == Succeeded";
    });
    only('unsafe-output', findings(loose));
  });
});

test('push-volume: a push or sync step that mounts a persistent volume', () => {
  const list = only(
    'push-volume',
    findings(
      broken((x) => {
        const push = x.template('ferry-push', 'push-govcloud');
        push.volumes.push({ name: 'workspace', persistentVolumeClaim: { claimName: 'run' } });
        push.container.volumeMounts.push({ name: 'workspace', mountPath: '/workspace' });
        const sync = x.template('ferry-sync', 'sync-china');
        sync.volumes.push({ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } });
      }),
    ),
  );
  expect(list.map((f) => `${f.object} ${f.path}`)).toEqual([
    'WorkflowTemplate/ferry-push spec.templates[push-govcloud].volumes[workspace]',
    'WorkflowTemplate/ferry-sync spec.templates[sync-china].volumes[scratch]',
  ]);
});

describe('push-identity: each push ServiceAccount carries its source role, the audience and regional STS', () => {
  const sa = (x: Finder, name: string) => x.objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === name);

  test('the destination role instead of the source role (the identity model before outbound federation)', () => {
    const [f] = only(
      'push-identity',
      findings(
        broken(
          (x) => (sa(x, 'ferry-pusher-china').metadata.annotations['eks.amazonaws.com/role-arn'] = 'arn:aws-cn:iam::333333333333:role/ferry-pusher-china'),
        ),
      ),
    );
    expect(f).toMatchObject({ object: 'ServiceAccount/ferry-pusher-china', path: 'metadata.annotations["eks.amazonaws.com/role-arn"]' });
    expect(f.message).toMatch(/must carry "arn:aws:iam::111111111111:role\/ferry-pusher-china"/);
  });

  test('no regional STS, or another audience', () => {
    const list = only(
      'push-identity',
      findings(
        broken((x) => {
          delete sa(x, 'ferry-pusher-govcloud').metadata.annotations['eks.amazonaws.com/sts-regional-endpoints'];
          sa(x, 'ferry-pusher-china').metadata.annotations['eks.amazonaws.com/audience'] = 'sts.amazonaws.com.cn';
        }),
      ),
    );
    expect(list.map((f) => f.path).sort()).toEqual([
      'metadata.annotations["eks.amazonaws.com/audience"]',
      'metadata.annotations["eks.amazonaws.com/sts-regional-endpoints"]',
    ]);
  });
});

describe('the ferry-sync CronWorkflow (schema of both Argo lines)', () => {
  const cron = () => JSON.parse(JSON.stringify(manifests(config).ofKind('CronWorkflow')[0]));

  test('is valid for v4.1.2 and v3.7.18 as emitted', () => {
    expect(validateArgoObject('CronWorkflow', cron())).toEqual([]);
  });

  test('the singular schedule, which v4 removed, fails on v4 only', () => {
    const object = cron();
    object.spec.schedule = object.spec.schedules[0];
    delete object.spec.schedules;
    const problems = validateArgoObject('CronWorkflow', object);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.version === 'v4.1.2')).toBe(true);
  });

  test('reported through validate as a schema finding', () => {
    const object = cron();
    object.spec.concurrencyPolicy = 'Never';
    const list = validate([object], { ...validateOptionsFor(config), schema: true }).filter((f) => f.rule === 'schema');
    expect(list.map((f) => f.object)).toContain('CronWorkflow/ferry-sync');
    expect(list[0].message).toMatch(/v4.1.2 CronWorkflow schema: must be equal to one of the allowed values \(Allow, Forbid, Replace\)/);
  });
});

describe('a CronWorkflow running a WorkflowTemplate by reference', () => {
  const cron = (x: Finder) => x.objects.find((o) => o.kind === 'CronWorkflow');

  test('template-ref: a WorkflowTemplate that is not emitted', () => {
    const [f] = only('template-ref', findings(broken((x) => (cron(x).spec.workflowSpec.workflowTemplateRef.name = 'ferry-backfill'))));
    expect(f).toMatchObject({ object: 'CronWorkflow/ferry-sync', path: 'spec.workflowTemplateRef' });
  });

  test('unknown-argument: an argument the WorkflowTemplate does not declare (Argo would run with the default)', () => {
    const [f] = only('unknown-argument', findings(broken((x) => (cron(x).spec.workflowSpec.arguments.parameters[1].name = 'tag'))));
    expect(f.message).toMatch(/passes "tag", which ferry-sync does not declare \(it takes: destination, tags, repositories\)/);
  });
});

describe('retry-deadline: a backoff.maxDuration must leave room for every attempt the retryStrategy promises', () => {
  // The real push template of one destination: 1800 s per attempt, limit 3, waits 15 s, 30 s, 60 s.
  const push = (x: Finder) => x.template('ferry-push', 'push-govcloud');

  test('maxDuration used as a cap per wait (what ferry emitted before): one line naming template, field and fix', () => {
    const [f] = only('retry-deadline', findings(broken((x) => (push(x).retryStrategy.backoff.maxDuration = '10m'))));
    expect(f).toMatchObject({ object: 'WorkflowTemplate/ferry-push', path: 'spec.templates[push-govcloud].retryStrategy.backoff.maxDuration' });
    expect(f.message).toMatch(/^is "10m" \(600s\), but its 4 attempts of up to 1800s \(activeDeadlineSeconds\) and the waits 15s, 30s, 60s take up to 7305s;/);
    expect(f.message).toMatch(/not a cap per wait \(that is backoff\.cap\).*set it to at least "7305s", or drop it$/);
    expect(formatFinding(f)).not.toContain('\n');
  });

  test('exactly every attempt and wait is enough; a second less is not', () => {
    expect(findings(broken((x) => (push(x).retryStrategy.backoff.maxDuration = '7305s')))).toEqual([]);
    expect(findings(broken((x) => (push(x).retryStrategy.backoff.maxDuration = '2h1m44s')))).toHaveLength(1);
  });

  test('the waits are those Argo computes: duration × factor^(n-1), each at most cap', () => {
    const [f] = only(
      'retry-deadline',
      findings(
        broken((x) => {
          const t = push(x);
          t.activeDeadlineSeconds = 100;
          t.retryStrategy = { limit: '5', backoff: { duration: '1m', factor: 2, cap: '2m', maxDuration: '18m' } };
        }),
      ),
    );
    expect(f.message).toMatch(/6 attempts of up to 100s \(activeDeadlineSeconds\) and the waits 60s, 120s, 120s, 120s, 120s take up to 1140s/);
    expect(backoffWaits({ duration: '10', factor: '3' }, 3)).toEqual([10, 30, 90]);
    expect(backoffWaits({ duration: '10s' }, 3)).toEqual([10, 10, 10]);
  });

  test('a workflow-level retryStrategy counts for every template without its own', () => {
    const list = only(
      'retry-deadline',
      findings(
        broken((x) => {
          delete push(x).retryStrategy;
          x.wt('ferry-push').spec.retryStrategy = { limit: 1, backoff: { duration: '10s', maxDuration: '30m' } };
        }),
      ),
    );
    expect(list.map((f) => f.path)).toEqual(['spec.retryStrategy.backoff.maxDuration']);
    expect(list[0].message).toMatch(/^\(for template "push-govcloud"\) is "30m" \(1800s\), but its 2 attempts .* take up to 3610s/);
  });

  test('maxDuration on a template with no activeDeadlineSeconds: no maxDuration is sure to be enough', () => {
    const [f] = only(
      'retry-deadline',
      findings(
        broken((x) => {
          delete push(x).activeDeadlineSeconds;
          push(x).retryStrategy.backoff.maxDuration = '24h';
        }),
      ),
    );
    expect(f.message).toMatch(/no activeDeadlineSeconds, so no maxDuration is sure to leave room for its 4 attempts/);
  });

  test('without a limit Argo retries until maxDuration: then it is the bound, and not a finding', () => {
    expect(
      findings(
        broken((x) => {
          delete push(x).retryStrategy.limit;
          push(x).retryStrategy.backoff.maxDuration = '10m';
        }),
      ),
    ).toEqual([]);
  });

  test('a backoff Argo cannot run: no duration, or a field it cannot parse', () => {
    const [missing] = only('retry-deadline', findings(broken((x) => delete push(x).retryStrategy.backoff.duration)));
    expect(missing.message).toMatch(/no base duration specified for retryStrategy/);
    const [cap] = only('retry-deadline', findings(broken((x) => (push(x).retryStrategy.backoff.cap = '10 minutes'))));
    expect(cap).toMatchObject({ path: 'spec.templates[push-govcloud].retryStrategy.backoff.cap' });
  });

  test('durations read as Argo reads them: a plain integer is seconds, anything else is a Go duration', () => {
    expect(['90', '15s', '10m', '1h30m', '1.5h', '500ms', '0', '-2s'].map(argoDurationSeconds)).toEqual([90, 15, 600, 5400, 5400, 0.5, 0, -2]);
    expect(['', '10', '1d', '10 m', 'm', '1.5'].map((d) => argoDurationSeconds(d === '10' ? 10.5 : d))).toEqual(Array(6).fill(undefined));
  });
});
