#!/usr/bin/env node
'use strict';
// `npx payer-sandbox [flags]`: runs this platform's payer-sandbox binary with the same
// arguments, standard input, output and error, and exits as it exits.

const { spawn } = require('node:child_process');
const { findBinary } = require('../lib/binary.cjs');

let binary;
try {
  binary = findBinary();
} catch (e) {
  process.stderr.write(`payer-sandbox: ${e.message}\n`);
  process.exit(1);
}

const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', windowsHide: false });

// Signals sent to this launcher (a CI runner's SIGTERM, `kill`) are passed on, so the server
// shuts down gracefully and the launcher exits when it has. A Ctrl-C in a terminal reaches both
// already (same process group); the server takes a second SIGINT like the first.
const FORWARDED = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
const handlers = {};
for (const sig of FORWARDED) {
  handlers[sig] = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  process.on(sig, handlers[sig]);
}

// `npx payer-sandbox` runs this launcher under `sh -c` under npm, and a SIGTERM sent to npm
// (a CI script's `kill $!`) ends the shell without reaching this process: it is orphaned and
// reparented. When the parent changes, stop the server as if the signal had come here.
if (process.platform !== 'win32') {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(watch);
      handlers.SIGTERM();
    }
  }, 500);
  watch.unref();
}

child.on('error', (e) => {
  process.stderr.write(`payer-sandbox: could not run ${binary}: ${e.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  for (const sig of FORWARDED) process.removeListener(sig, handlers[sig]);
  if (signal) {
    // Die of the same signal, so that the caller sees what the server saw (a shell's 128+n).
    process.kill(process.pid, signal);
    // Not reached unless the signal is ignored here.
    process.exit(1);
  }
  process.exit(code === null ? 1 : code);
});
