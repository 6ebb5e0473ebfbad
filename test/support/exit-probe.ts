/** The exit probe (exit-probe-preload.cjs): how a test asks whether a ferry process was ended through process.exit(). */
import * as path from 'node:path';

/** NODE_OPTIONS that load the probe into ferry's process (and, harmlessly, into any tsx launcher of it). */
export const EXIT_PROBE_NODE_OPTIONS = `--require ${path.join(__dirname, 'exit-probe-preload.cjs')}`;

/** What the probe writes when process.exit() ended the process; the group is the exit code. */
export const FORCED_EXIT = /exit-probe: process\.exit\((\d+)\)/;
