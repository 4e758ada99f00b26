// CommonJS: require('payer-sandbox') as Jest without ESM configuration or Mocha load it, run
// with Node's own test runner (node --test).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const payerSandbox = require('payer-sandbox');

test('require() resolves the CommonJS entry point and its exports', () => {
  assert.equal(path.basename(require.resolve('payer-sandbox')), 'index.cjs');
  assert.deepEqual(Object.keys(payerSandbox).sort(), ['BinaryNotFoundError', 'Sandbox', 'SandboxError', 'findBinary', 'startSandbox']);
  // The installed platform package's binary, not a fallback.
  assert.match(payerSandbox.findBinary({}), /node_modules[\\/]@payer-sandbox[\\/]linux-x64[\\/]bin[\\/]payer-sandbox$/);
});

test('the CommonJS and ESM entry points are one module', async () => {
  const esm = await import('payer-sandbox');
  assert.equal(esm.startSandbox, payerSandbox.startSandbox);
  assert.equal(esm.SandboxError, payerSandbox.SandboxError);
});

test('start, log in, read, stop', async () => {
  const sandbox = await payerSandbox.startSandbox();
  try {
    const tokens = await sandbox.login('08-testmemid', { client: 'sandbox-public-app', scope: 'patient/*.read' });
    const res = await sandbox.fhir(`Patient/${tokens.patient}`, tokens);
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'Patient');
  } finally {
    assert.deepEqual(await sandbox.stop(), { code: 0, signal: null });
  }
});

test('a missing PAYER_SANDBOX_BIN is named', () => {
  assert.throws(() => payerSandbox.findBinary({ PAYER_SANDBOX_BIN: '/nonexistent/payer-sandbox' }), {
    name: 'BinaryNotFoundError',
    message: /PAYER_SANDBOX_BIN is set to \/nonexistent\/payer-sandbox/,
  });
});

// A test process that ends without stop(): by finishing, or killed outright (as a test runner
// may kill a worker). Either way its server must go too.
const { spawn } = require('node:child_process');

function startInChild(mode) {
  const script = `
    const { startSandbox } = require('payer-sandbox');
    startSandbox().then((s) => {
      console.log(String(s.pid));
      if (${JSON.stringify(mode)} === 'hang') setInterval(() => {}, 1000);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve({ child, serverPid: Number(m[1]) });
    });
    child.on('exit', (code) => {
      if (!/^\d+\n/.test(out)) reject(new Error(`child exited ${code} before its sandbox started`));
    });
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

async function gone(pid, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

test('a test process that forgets stop() still exits, and its server goes with it', async () => {
  const { child, serverPid } = await startInChild('forget');
  const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));
  assert.equal(code, 0);
  assert.ok(await gone(serverPid, 5000), `server ${serverPid} still running`);
});

test('a test process killed with SIGKILL leaves no server behind', async () => {
  const { child, serverPid } = await startInChild('hang');
  assert.ok(alive(serverPid));
  child.kill('SIGKILL');
  assert.ok(await gone(serverPid, 5000), `server ${serverPid} still running`);
});
