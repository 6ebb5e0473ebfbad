/**
 * TEST-ONLY preload (NODE_OPTIONS="--require .../aws-hosts-hook.cjs"): stands in for DNS.
 * The AWS SDK and ferry's transport both open TLS connections through tls.connect; this
 * hook sends them to local servers while the client still checks the certificate:
 *  - FERRY_TEST_AWS_STAND_IN=<port>: every AWS host name (amazonaws.com, .com.cn, .eu,
 *    api.aws) goes to 127.0.0.1:<port>; the certificate is checked against the REAL name,
 *    so the stand-in answers only the names its certificate lists;
 *  - FERRY_TEST_REGISTRY=<name>=<port>[,<name>=<port>...]: each registry name goes to
 *    127.0.0.1:<port>, checked as 127.0.0.1 (the test registry's certificate names its IP).
 * Nothing else is changed. Never loaded by ferry itself.
 */
'use strict';
const tls = require('node:tls');

const AWS_NAME = /\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|api\.aws)$/i;
const standIn = process.env.FERRY_TEST_AWS_STAND_IN;
const registries = new Map(
  (process.env.FERRY_TEST_REGISTRY || '')
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [name, port] = pair.split('=');
      return [name.toLowerCase(), Number(port)];
    }),
);

const connect = tls.connect;
tls.connect = function hookedConnect(...args) {
  const options = args[0];
  if (options && typeof options === 'object') {
    const name = String(options.servername || options.host || '').toLowerCase();
    if (registries.has(name)) {
      const { servername: _unused, ...rest } = options;
      args[0] = { ...rest, host: '127.0.0.1', port: registries.get(name) };
    } else if (standIn && AWS_NAME.test(name)) {
      args[0] = { ...options, host: '127.0.0.1', port: Number(standIn), servername: name };
    }
  }
  return connect.apply(this, args);
};
