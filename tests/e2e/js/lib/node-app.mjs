// A small web app using SMART client-js (`fhirclient`) with its Node adapter, on its own port:
// GET /launch starts the SMART flow against `iss` (the default plan's FHIR base unless the
// options name another), GET /app is the redirect page, where `ready()` completes it. The
// member signs in on the real pages over HTTP.

import assert from 'node:assert/strict';
import smart from 'fhirclient';

import { FHIR_BASE, SANDBOX, approveOverHttp, serve } from './sandbox.mjs';

export const SCOPE = 'launch/patient openid fhirUser offline_access patient/*.read';

/** Sessions keyed by a cookie, as express-session would keep them. */
function sessionStorage(sessions, req) {
  const sid = /sid=([\w-]+)/.exec(req.headers.cookie || '')?.[1] || 'none';
  const data = (sessions[sid] ??= {});
  return {
    async get(key) { return data[key]; },
    async set(key, value) { data[key] = value; return value; },
    async unset(key) { const had = key in data; delete data[key]; return had; },
  };
}

/**
 * Starts the app; `options` go to `authorize()` (clientId, clientSecret, iss, ...). `ready`
 * resolves with the client for the tests to use, or rejects with what `ready()` threw.
 */
export async function startApp(options, scope = SCOPE) {
  const sessions = {};
  let settle;
  const ready = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  ready.catch(() => {}); // a test that expects the launch to fail awaits it later
  const app = await serve(async (req, res) => {
    const storage = sessionStorage(sessions, req);
    const path = new URL(req.url, 'http://app').pathname;
    if (path === '/launch') {
      return smart(req, res, storage).authorize({ iss: FHIR_BASE, redirectUri: '/app', scope, ...options });
    }
    if (path === '/app') {
      try {
        const client = await smart(req, res, storage).ready();
        settle.resolve(client);
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('signed in');
      } catch (e) {
        settle.reject(e);
        throw e;
      }
    }
    res.writeHead(404);
    res.end();
  });
  return { ...app, ready };
}

/** Goes to the app's /launch with a fresh session; returns the session cookie and the authorize URL. */
export async function startLaunch(app) {
  const sid = `sid=${Math.random().toString(36).slice(2)}`;
  const r = await fetch(`${app.url}/launch`, { redirect: 'manual', headers: { cookie: sid } });
  assert.equal(r.status, 302, await r.text());
  return { sid, authorizeUrl: r.headers.get('location') };
}

/**
 * Launches `app` for `member` with a fresh session, signing in on the pages of the plan named
 * `planName`; returns the authorize URL and the client.
 */
export async function launch(app, member, planName = 'Demo Health Plan') {
  const { sid, authorizeUrl } = await startLaunch(app);
  const callback = await approveOverHttp(authorizeUrl, member, undefined, planName);
  assert.ok(callback.startsWith(`${app.url}/app?`), callback);
  const done = await fetch(callback, { headers: { cookie: sid } });
  assert.equal(done.status, 200, await done.text());
  return { authorizeUrl, client: await app.ready };
}

/** Moves the sandbox clock forward. */
export async function advance(seconds) {
  const r = await fetch(`${SANDBOX}/sandbox/api/clock/advance`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds }),
  });
  assert.equal(r.status, 200);
}
