'use strict';
// startSandbox(): a payer-sandbox server for one test file or suite, on a free port, with the
// sandbox control API (docs/sandbox-tools.md) as methods. No dependencies: Node's own
// child_process, crypto and fetch (Node 18 or later).

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const { findBinary, BinaryNotFoundError } = require('./binary.cjs');

const LISTENING = /^payer-sandbox listening on (\S+)\s*$/;
const DEFAULT_START_TIMEOUT_MS = 30000;
const DEFAULT_STOP_TIMEOUT_MS = 5000;
const DEFAULT_LOG_LIMIT = 1024 * 1024;

// The built-in apps (docs/apps.md#built-in-apps): their secrets are public.
const BUILT_IN_SECRETS = { 'sandbox-app': 'sandbox-secret' };
const DEFAULT_CLIENT = 'sandbox-app';

/** An error answer from the sandbox: the control API, the token endpoint. */
class SandboxError extends Error {
  constructor(message, { status, body, method, url } = {}) {
    super(message);
    this.name = 'SandboxError';
    this.status = status;
    this.body = body;
    this.error = body && typeof body === 'object' ? body.error : undefined;
    this.errorDescription = body && typeof body === 'object' ? body.error_description : undefined;
    this.method = method;
    this.url = url;
  }
}

// Every sandbox still running, stopped when this process exits. The watchdog beside each one
// covers the exits that run no JavaScript (SIGKILL, an uncaught signal).
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) s._killNow();
  });
}

class OutputBuffer {
  constructor(limit) {
    this.limit = limit;
    this.text = '';
    this.dropped = 0;
  }
  push(s) {
    this.text += s;
    if (this.text.length > this.limit * 2) this._trim();
  }
  _trim() {
    if (this.text.length > this.limit) {
      const cut = this.text.length - this.limit;
      this.dropped += cut;
      this.text = this.text.slice(cut);
    }
  }
  toString() {
    this._trim();
    return this.dropped ? `[… ${this.dropped} earlier characters dropped]\n${this.text}` : this.text;
  }
}

function base64url(buf) {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function normalizeClient(client) {
  if (client === undefined || client === null) client = DEFAULT_CLIENT;
  if (typeof client === 'string') return { id: client, secret: BUILT_IN_SECRETS[client] };
  if (typeof client === 'object' && typeof client.id === 'string') return { id: client.id, secret: client.secret };
  throw new TypeError('client must be a client_id string or {id, secret?}');
}

function hasListenFlag(args) {
  return args.some((a) => a === '--listen' || a.startsWith('--listen='));
}

// The server reads PAYER_SANDBOX_* variables as flags (docs/command-line.md). One set in the
// test runner's environment for another purpose (a container service's public URL) must not
// change the sandbox this helper starts, so only options.env passes them on.
function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PAYER_SANDBOX_') && k !== 'PAYER_SANDBOX_BIN') continue;
    env[k] = v;
  }
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(extra || {})) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

async function readBody(res) {
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('content-type') || '';
  if (/json/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function describeError(method, url, status, body) {
  let what = '';
  if (body && typeof body === 'object' && body.error) {
    what = `${body.error}${body.error_description ? `: ${body.error_description}` : ''}`;
  } else if (typeof body === 'string') {
    what = body.slice(0, 300);
  } else if (body) {
    what = JSON.stringify(body).slice(0, 300);
  }
  return `${method} ${url} answered ${status}${what ? ` (${what})` : ''}`;
}

class Sandbox {
  constructor(child, url, output, opts) {
    this._child = child;
    this._output = output;
    this._stopTimeoutMs = opts.stopTimeoutMs;
    this._watchdog = null;
    this._exit = null;
    this._plans = null;
    this._exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this._exit = { code, signal };
        live.delete(this);
        this._endWatchdog();
        resolve(this._exit);
      });
    });
    /** The server's public URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
    this.url = url;
    /** The default plan's FHIR base, `${url}/r4`. */
    this.fhirBase = `${url}/r4`;
    /** The server's process id. */
    this.pid = child.pid;

    const self = this;
    this.clock = {
      now: () => self.api('GET', 'clock'),
      advance: (seconds) => self.api('POST', 'clock/advance', { seconds }),
      reset: () => self.api('POST', 'clock/reset'),
    };
    this.faults = {
      add: (fault) => self.api('POST', 'faults', fault),
      list: () => self.api('GET', 'faults'),
      remove: (id) => self.api('DELETE', `faults/${encodeURIComponent(id)}`).then((r) => r.deleted),
      clear: () => self.api('DELETE', 'faults').then((r) => r.deleted),
    };
  }

  /** Whether the server process is still running. */
  get running() {
    return this._exit === null;
  }

  /** Resolves with {code, signal} when the server process has exited, however it ended. */
  get exited() {
    return this._exited;
  }

  /** Everything the server printed (standard output and error, in arrival order), the newest 1 MiB by default. */
  log() {
    return this._output.toString();
  }

  /**
   * A request to the control API: `api('GET', 'outbox')`, `api('POST', 'keys/rotate')`.
   * Resolves with the answer's JSON (or text); rejects with a SandboxError on a non-2xx answer.
   */
  async api(method, apiPath, body) {
    const url = `${this.url}/sandbox/api/${String(apiPath).replace(/^\/+/, '')}`;
    const init = { method, headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await this._fetch(url, init);
    const parsed = await readBody(res);
    if (!res.ok) {
      throw new SandboxError(describeError(method, url, res.status, parsed), { status: res.status, body: parsed, method, url });
    }
    return parsed;
  }

  async _fetch(url, init) {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (!this.running) {
        const { code, signal } = this._exit;
        const err = new Error(
          `payer-sandbox is not running (it exited with ${signal ? `signal ${signal}` : `code ${code}`}); ` +
            `its last output:\n${this.log().slice(-4000)}`,
        );
        err.cause = e;
        throw err;
      }
      throw e;
    }
  }

  /** The test members of the default plan, or of `plan`. */
  members({ plan } = {}) {
    return this.api('GET', plan ? `members?plan=${encodeURIComponent(plan)}` : 'members');
  }

  /** Every plan of the network, the default first. */
  plans() {
    return this.api('GET', 'plans');
  }

  async _clientAuth(opts) {
    if (opts.clientAuth) return opts.clientAuth;
    if (!opts.plan) return 'body';
    if (!this._plans) this._plans = await this.plans();
    const plan = this._plans.find((p) => p.id === opts.plan || (p.aliases || []).includes(opts.plan));
    const accepted = plan && plan.profile && plan.profile['client-auth'];
    return accepted === 'basic' ? 'basic' : 'body';
  }

  async _token(form, client, opts) {
    const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const params = new URLSearchParams(form);
    if (client.secret === undefined) {
      params.set('client_id', client.id);
    } else if ((await this._clientAuth(opts)) === 'basic') {
      // RFC 6749 §2.3.1: each part form-urlencoded before the Basic encoding.
      const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(client.id)}:${enc(client.secret)}`).toString('base64')}`;
    } else {
      params.set('client_id', client.id);
      params.set('client_secret', client.secret);
    }
    const url = `${this.url}/oauth2/token`;
    const res = await this._fetch(url, { method: 'POST', headers, body: params.toString() });
    const body = await readBody(res);
    if (!res.ok) throw new SandboxError(describeError('POST', url, res.status, body), { status: res.status, body, method: 'POST', url });
    return body;
  }

  /**
   * Signs a test member in without a browser and returns the token response: a headless
   * authorize (POST /sandbox/api/authorize, with PKCE S256) and then the authorization code
   * exchange at /oauth2/token, as the app would make it.
   */
  async login(memberId, opts = {}) {
    if (typeof memberId !== 'string' || !memberId.trim()) throw new TypeError('login(memberId): a member ID such as "08-testmemid"');
    const client = normalizeClient(opts.client);
    const verifier = base64url(crypto.randomBytes(32));
    const challenge = base64url(crypto.createHash('sha256').update(verifier).digest());
    const req = {
      client_id: client.id,
      member_id: memberId,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    if (opts.scope !== undefined) req.scope = Array.isArray(opts.scope) ? opts.scope.join(' ') : opts.scope;
    for (const [opt, field] of [
      ['redirectUri', 'redirect_uri'],
      ['state', 'state'],
      ['nonce', 'nonce'],
      ['aud', 'aud'],
      ['plan', 'plan'],
      ['representative', 'representative'],
      ['decline', 'decline'],
    ]) {
      if (opts[opt] !== undefined) req[field] = opts[opt];
    }
    const { code } = await this.api('POST', 'authorize', req);
    const form = { grant_type: 'authorization_code', code, code_verifier: verifier };
    if (opts.redirectUri !== undefined) form.redirect_uri = opts.redirectUri;
    return this._token(form, client, opts);
  }

  /** A refresh token grant, authenticated as login() does. Resolves with the token response. */
  async refresh(refreshToken, opts = {}) {
    const token = typeof refreshToken === 'object' && refreshToken ? refreshToken.refresh_token : refreshToken;
    if (!token) throw new TypeError('refresh(refreshToken): a refresh token (or a token response that has one)');
    const form = { grant_type: 'refresh_token', refresh_token: token };
    if (opts.scope !== undefined) form.scope = Array.isArray(opts.scope) ? opts.scope.join(' ') : opts.scope;
    return this._token(form, normalizeClient(opts.client), opts);
  }

  /**
   * A FHIR request with a bearer token. `path` is relative to the FHIR base
   * (`Patient/jason-argonaut`, `ExplanationOfBenefit?patient=…`) or an absolute URL (a Bundle's
   * `next` link). Never rejects on an HTTP error status: resolves with
   * {status, ok, headers, body, url}, `body` parsed when it is JSON.
   */
  async fhir(fhirPath, token, init = {}) {
    const url = /^https?:\/\//i.test(fhirPath) ? fhirPath : `${this.fhirBase}/${String(fhirPath).replace(/^\/+/, '')}`;
    const headers = new Headers(init.headers || {});
    if (!headers.has('accept')) headers.set('accept', 'application/fhir+json');
    const access = token && typeof token === 'object' ? token.access_token : token;
    if (access) headers.set('authorization', `Bearer ${access}`);
    const res = await this._fetch(url, { ...init, method: init.method || 'GET', headers });
    const body = await readBody(res);
    return { status: res.status, ok: res.ok, headers: res.headers, body, url };
  }

  /** The request log, oldest first: all of it, or one client's, or under a path prefix. */
  requests({ clientId, path: prefix } = {}) {
    const q = new URLSearchParams();
    if (clientId) q.set('client_id', clientId);
    if (prefix) q.set('path', prefix);
    const qs = q.toString();
    return this.api('GET', qs ? `requests?${qs}` : 'requests');
  }

  /** Empties the request log; resolves with how many entries went. */
  clearRequests() {
    return this.api('DELETE', 'requests').then((r) => r.deleted);
  }

  /** The report on what a client did (all clients' without clientId); `format: 'junit'` gives the XML text. */
  report({ clientId, format } = {}) {
    const q = new URLSearchParams();
    if (clientId) q.set('client_id', clientId);
    if (format) q.set('format', format);
    const qs = q.toString();
    return this.api('GET', qs ? `report?${qs}` : 'report');
  }

  /** Revokes every token issued for a member, as if they had revoked access at the payer. */
  expireGrants(memberId, { plan } = {}) {
    const p = `members/${encodeURIComponent(memberId)}/expire-grants${plan ? `?plan=${encodeURIComponent(plan)}` : ''}`;
    return this.api('POST', p);
  }

  /** Forgets codes, tokens, faults, the request log, the clock offset and data changes; apps stay. */
  reset() {
    return this.api('POST', 'reset');
  }

  _endWatchdog() {
    if (this._watchdog && this._watchdog.exitCode === null && this._watchdog.signalCode === null) {
      try {
        this._watchdog.kill('SIGKILL');
      } catch {}
    }
  }

  _killNow() {
    if (this.running) {
      try {
        this._child.kill('SIGTERM');
      } catch {}
    }
  }

  /**
   * Stops the server: SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within
   * `timeoutMs` (5 s by default). Resolves with {code, signal}. Safe to call more than once.
   */
  async stop({ timeoutMs = this._stopTimeoutMs } = {}) {
    if (!this.running) return this._exit;
    this._child.ref();
    try {
      this._child.kill('SIGTERM');
    } catch {}
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    const first = await Promise.race([this._exited, timeout]);
    clearTimeout(timer);
    if (first === 'timeout') {
      try {
        this._child.kill('SIGKILL');
      } catch {}
    }
    return this._exited;
  }
}

/**
 * Starts payer-sandbox on 127.0.0.1 with a free port (unless `args` has its own --listen) and
 * resolves once it accepts connections.
 */
function startSandbox(options = {}) {
  const args = Array.isArray(options.args) ? options.args.map(String) : [];
  const env = childEnv(options.env);
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const output = new OutputBuffer(options.logLimit ?? DEFAULT_LOG_LIMIT);

  return new Promise((resolve, reject) => {
    let binary;
    try {
      binary = options.binary || findBinary({ ...process.env, ...(options.env || {}) });
    } catch (e) {
      reject(e);
      return;
    }
    const argv = hasListenFlag(args) ? args : ['--listen', '127.0.0.1:0', ...args];
    let child;
    try {
      child = spawn(binary, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    } catch (e) {
      reject(e);
      return;
    }

    let settled = false;
    let stdoutRest = '';
    let timer;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {}
      }
      reject(err);
    };
    const describe = () => `${binary} ${argv.join(' ')}`;

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => output.push(s));
    child.stdout.on('data', (s) => {
      output.push(s);
      if (settled) return;
      stdoutRest += s;
      let nl;
      while ((nl = stdoutRest.indexOf('\n')) >= 0) {
        const line = stdoutRest.slice(0, nl).replace(/\r$/, '');
        stdoutRest = stdoutRest.slice(nl + 1);
        const m = LISTENING.exec(line);
        if (m) {
          settled = true;
          clearTimeout(timer);
          const sandbox = new Sandbox(child, m[1].replace(/\/+$/, ''), output, { stopTimeoutMs });
          live.add(sandbox);
          installExitHook();
          sandbox._watchdog = startWatchdog(child.pid);
          // The sandbox never keeps the test process alive by itself; the exit hook and the
          // watchdog stop it when that process ends.
          child.unref();
          child.stdout.unref();
          child.stderr.unref();
          resolve(sandbox);
          return;
        }
      }
    });
    child.once('error', (e) => {
      fail(new Error(`payer-sandbox could not be started (${describe()}): ${e.message}`, { cause: e }));
    });
    child.once('exit', (code, signal) => {
      fail(
        new Error(
          `payer-sandbox exited with ${signal ? `signal ${signal}` : `code ${code}`} before it was listening (${describe()}). Its output:\n${output}`,
        ),
      );
    });
    timer = setTimeout(() => {
      fail(new Error(`payer-sandbox did not print its listening line within ${startTimeoutMs} ms (${describe()}). Its output:\n${output}`));
    }, startTimeoutMs);
  });
}

function startWatchdog(pid) {
  try {
    const w = spawn(process.execPath, [path.join(__dirname, 'watchdog.cjs'), String(pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      windowsHide: true,
    });
    w.on('error', () => {});
    w.stdin.on('error', () => {});
    w.unref();
    w.stdin.unref();
    return w;
  } catch {
    return null;
  }
}

module.exports = { startSandbox, findBinary, Sandbox, SandboxError, BinaryNotFoundError };
