import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/** A child process's exit code (-1 when killed by a signal) and everything it wrote. */
export function childOutput(child: ChildProcessWithoutNullStreams): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
