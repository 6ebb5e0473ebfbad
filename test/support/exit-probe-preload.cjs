/**
 * Preloaded (NODE_OPTIONS=--require, see exit-probe.ts) into the process that runs bin/ferry.ts
 * or bin/ferry: says on stderr when that process is ended through process.exit(), and with
 * FERRY_TEST_HOLD_LOOP=1 keeps its event loop from emptying, as work abandoned at the
 * --timeout deadline can.
 */
const path = require('node:path');

const script = process.argv[1] ?? '';
if ([path.join('bin', 'ferry.ts'), path.join('bin', 'ferry')].some((entry) => script.endsWith(entry))) {
  const exit = process.exit;
  process.exit = (code) => {
    process.stderr.write(`exit-probe: process.exit(${code})\n`);
    return exit.call(process, code);
  };
  if (process.env.FERRY_TEST_HOLD_LOOP === '1') setInterval(() => {}, 60_000);
}
