/*
 * Loaded into the ferry process under test with NODE_OPTIONS=--require: connections to AWS host
 * names (FERRY_E2E_AWS_SUFFIXES) go to the stand-ins' TLS front at FERRY_E2E_FRONT
 * (127.0.0.1:<port>) instead of the network. Only the socket's address changes: the TLS server
 * name, the Host header and certificate verification stay those of the real host name, so ferry
 * and the AWS SDK resolve endpoints and verify certificates exactly as they do against AWS.
 * Written as plain CommonJS because it runs before any TypeScript loader.
 */
'use strict';
const net = require('node:net');
const tls = require('node:tls');

const front = process.env.FERRY_E2E_FRONT;
const suffixes = (process.env.FERRY_E2E_AWS_SUFFIXES || '').split(',').filter(Boolean);
if (front && suffixes.length) {
  const [frontHost, frontPort] = [front.replace(/:\d+$/, ''), Number(front.replace(/^.*:/, ''))];
  const isAws = (host) => typeof host === 'string' && suffixes.some((s) => host === s || host.endsWith(`.${s}`));
  const redirect = (original) => function connect(...args) {
    const options = args[0];
    if (options && typeof options === 'object' && isAws(options.host)) {
      const servername = options.servername || options.host;
      args[0] = { ...options, host: frontHost, port: frontPort, servername, lookup: undefined };
    }
    return original.apply(this, args);
  };
  tls.connect = redirect(tls.connect);
  // Plain connections to an AWS name are redirected too, so none can reach the network by mistake
  // (the front only speaks TLS, so such a request fails, as plain HTTP to AWS would).
  net.connect = net.createConnection = redirect(net.createConnection);
}
