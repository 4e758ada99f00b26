'use strict';
// Started by startSandbox() beside each server, with a pipe as its standard input. When the
// test process ends by any means (even SIGKILL, or a test runner killing its worker), the
// pipe's other end closes and this process stops the server: SIGTERM, then SIGKILL if it is
// still there after a few seconds. startSandbox() ends this process itself after a normal
// stop().
//
// Usage: node watchdog.cjs SERVER_PID

const pid = Number(process.argv[2]);
const GRACE_MS = 3000;

function alive() {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // An exited server that nobody has reaped yet (its parent is gone) is a zombie: done.
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

let stopping = false;
function stopServer() {
  if (stopping) return;
  stopping = true;
  if (!Number.isInteger(pid) || pid <= 0 || !alive()) process.exit(0);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    process.exit(0);
  }
  const started = Date.now();
  setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() - started > GRACE_MS) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      process.exit(0);
    }
  }, 50);
}

process.stdin.on('end', stopServer);
process.stdin.on('close', stopServer);
process.stdin.on('error', stopServer);
process.stdin.resume();
// Signals aimed at the whole process group (a Ctrl-C) stop the server too.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  try {
    process.on(sig, stopServer);
  } catch {}
}
