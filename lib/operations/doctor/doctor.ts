/**
 * `ferry doctor` from a workstation: every target's account with that target's profile, in
 * parallel, and the cluster through kubectl, all under one deadline. A target without a profile is
 * skipped (one finding says how to give one); nothing that fails to answer stops the others.
 */
import type { DoctorPlanTarget } from '../../contract';
import { checkAccount } from './account';
import { AwsReader } from './aws';
import { checkCluster } from './cluster';
import type { Finding } from './findings';
import type { Synthesized } from './plan';

export interface DoctorOptions {
  readonly synth: Synthesized;
  /** Target name -> AWS profile. */
  readonly profiles: ReadonlyMap<string, string>;
  /** Only these targets (all when empty). */
  readonly targets: readonly string[];
  readonly dist: string;
  /** The cluster side runs when either is set. */
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly timeoutSeconds: number;
  readonly log: (line: string) => void;
}

/** What the user runs to give a target a profile. */
export function profileHint(target: DoctorPlanTarget): string {
  return `ferry doctor --profile ${target.name}=<profile>, FERRY_PROFILES="${target.name}=<profile>", or profile: in ${target.source}`;
}

export async function runDoctor(opts: DoctorOptions): Promise<Finding[]> {
  const signal = AbortSignal.timeout(opts.timeoutSeconds * 1000);
  const chosen = opts.synth.plan.targets.filter((t) => opts.targets.length === 0 || opts.targets.includes(t.name));
  const perTarget = chosen.map(async (target): Promise<Finding[]> => {
    const profile = opts.profiles.get(target.name);
    if (!profile)
      return [
        {
          hop: 'credentials',
          status: 'skipped',
          target: target.name,
          subject: `${target.account} ${target.region}`,
          found: 'no profile given',
          fix: profileHint(target),
        },
      ];
    const reader = new AwsReader({ target, profile, signal, log: opts.log });
    try {
      return await checkAccount({ target, profile, reader, synth: opts.synth });
    } catch (err) {
      // A bug or an answer of a shape nobody expected: reported, never a crash of the whole run.
      return [{ hop: 'doctor', status: 'unchecked', target: target.name, subject: `${target.account} ${target.region}`, found: (err as Error).message }];
    } finally {
      reader.close();
    }
  });
  const cluster =
    opts.kubeconfig || opts.context
      ? checkCluster({
          dist: opts.dist,
          kubeconfig: opts.kubeconfig,
          context: opts.context,
          plan: opts.synth.plan,
          timeoutSeconds: Math.min(30, opts.timeoutSeconds),
          signal,
        })
      : Promise.resolve<Finding[]>([
          {
            hop: 'cluster',
            status: 'skipped',
            target: 'cluster',
            subject: opts.synth.plan.cluster.namespace,
            found: 'no kubeconfig given',
            fix: 'ferry doctor --kubeconfig <path> [--context <name>]',
          },
        ]);
  return (await Promise.all([...perTarget, cluster])).flat();
}
