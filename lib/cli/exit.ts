/**
 * How a `ferry` process ends once its command has its exit code.
 *
 * Not with process.exit(): it disposes V8's platform without tearing the isolate down first,
 * and a background compile job of V8 (Sparkplug or Maglev, both on by default from Node 24)
 * parked for a garbage collection then never returns, so the exit waits for that thread
 * forever (nodejs/node#54918, #64274). Observed here on Node 24.21.0: a `ferry copy` that had
 * delivered its image and printed its summary never ended. Ending by itself, with the event
 * loop empty, Node disposes the isolate first, which releases such a job (V8's
 * Heap::StartTearDown). A step that never ends is killed at its deadline and counts as failed,
 * so this matters more than the milliseconds.
 *
 * process.exit() stays the fallback for a loop that does not empty: work abandoned at the
 * --timeout deadline (a socket that will not close) must not keep the process alive.
 */

/** How long a run may take to wind down after its result is known before it is ended by force. */
export const FORCED_EXIT_AFTER_MS = 1000;

/** Sets the exit code and lets the process end by itself; after FORCED_EXIT_AFTER_MS, ends it. */
export function endProcess(code: number): void {
  process.exitCode = code;
  // The result is decided and reported: an error of work abandoned at the deadline that surfaces
  // while the process winds down must neither print a stack trace nor change the exit code.
  const late = () => {
    process.exitCode = code;
  };
  process.on('uncaughtException', late);
  process.on('unhandledRejection', late);
  // Unref'd: this timer alone never keeps the process alive, so a clean run ends at once.
  setTimeout(() => process.exit(code), FORCED_EXIT_AFTER_MS).unref();
}
