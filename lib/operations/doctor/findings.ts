/**
 * What `ferry doctor` reports, from a workstation or from a pod: one finding per hop checked.
 * Each names the hop, where (target, account, region or cluster object), what was expected, what
 * was found, and the command that fixes it. Both doctors print and exit through this module, so
 * a finding reads the same whichever of them found it.
 */
import { EXIT } from '../../contract';

/**
 * How a hop came out:
 *  - ok: it holds;
 *  - mismatch: it does not hold, and the fix is in the finding (exit 2: a retry cannot fix it);
 *  - unchecked: it could not be checked (network, throttling, a denied read): exit 1;
 *  - skipped: not checked on purpose (no credentials given for that target, no kubeconfig).
 */
export type FindingStatus = 'ok' | 'mismatch' | 'unchecked' | 'skipped';

export interface Finding {
  /** The hop, from the vocabulary below, e.g. `destination-role-trust`. */
  readonly hop: string;
  readonly status: FindingStatus;
  /** Where: the target name, or `cluster` for the Kubernetes side. */
  readonly target: string;
  /** The object checked: a stack name, role ARN, provider URL, repository ARN, `namespace/kind/name`. */
  readonly subject: string;
  /** What the synthesized output (or ferry's own rule) says should be there. */
  readonly expected?: string;
  /** What is there. */
  readonly found?: string;
  /** The command (or edit) that fixes a mismatch, with the profile or context filled in. */
  readonly fix?: string;
}

/** 0 when every hop holds or was skipped, 2 when any does not hold, else 1 when any could not be checked. */
export function doctorExitCode(findings: readonly Finding[]): number {
  if (findings.some((f) => f.status === 'mismatch')) return EXIT.badInput;
  if (findings.some((f) => f.status === 'unchecked')) return EXIT.destinationFailed;
  return EXIT.ok;
}

const MARK: Record<FindingStatus, string> = { ok: 'ok', mismatch: 'MISMATCH', unchecked: 'UNCHECKED', skipped: 'skipped' };

/** One line per finding, then indented expected / found / fix lines for the ones that need them. */
export function renderFindings(findings: readonly Finding[]): string[] {
  return findings.flatMap((f) => {
    const head = `${MARK[f.status].padEnd(9)} ${f.target}: ${f.hop}: ${f.subject}`;
    if (f.status === 'ok') return [head];
    return [
      head,
      ...(f.expected !== undefined ? [`          expected: ${f.expected}`] : []),
      ...(f.found !== undefined ? [`          found:    ${f.found}`] : []),
      ...(f.fix !== undefined ? [`          fix:      ${f.fix}`] : []),
    ];
  });
}

/** The `--json` document: every finding, and the counts a CI step reads. */
export function findingsJson(findings: readonly Finding[]): { ok: boolean; counts: Record<FindingStatus, number>; findings: readonly Finding[] } {
  const counts: Record<FindingStatus, number> = { ok: 0, mismatch: 0, unchecked: 0, skipped: 0 };
  for (const f of findings) counts[f.status]++;
  return { ok: doctorExitCode(findings) === EXIT.ok, counts, findings };
}
