// The sandbox under test (its URL comes from run.sh) and what the suites share: the control
// API, a headless token for independent expectations, and a member walking the sign-in pages
// with plain HTTP the way a browser without JavaScript would. Also the network's other plans
// (GET /sandbox/api/plans) and a token of one of them, asked for the way that plan wants it.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

export const SANDBOX = (process.env.PAYER_SANDBOX_URL || '').replace(/\/+$/, '');
if (!SANDBOX) throw new Error('PAYER_SANDBOX_URL is not set: run tests/e2e/run.sh');
export const FHIR_BASE = `${SANDBOX}/r4`;
export const ARTIFACTS = process.env.E2E_ARTIFACTS || new URL('../../../../target/e2e/', import.meta.url).pathname;

export const JASON = '08-testmemid';
export const ROSA = '08-testmemid2';

export function uniqueEmail(tag) {
  return `${tag}-${randomBytes(6).toString('hex')}@example.com`;
}

export async function members() {
  const r = await fetch(`${SANDBOX}/sandbox/api/members`);
  assert.equal(r.status, 200);
  return Object.fromEntries((await r.json()).map((m) => [m.member_id, m]));
}

/** A control API call with a JSON body (the harness's, never logged); resolves to its answer. */
export async function control(path, body = {}) {
  const r = await fetch(`${SANDBOX}/sandbox/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(r.ok, `${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

export async function latestCode(email) {
  const outbox = await (await fetch(`${SANDBOX}/sandbox/api/outbox`)).json();
  const mine = outbox.filter((e) => e.to === email.toLowerCase());
  assert.ok(mine.length, `no verification email to ${email} in the outbox`);
  return mine[mine.length - 1].code;
}

/** An access token for the built-in confidential app, the CI way (headless authorize). */
export async function headlessToken(memberId, scope = 'patient/*.read') {
  const a = await fetch(`${SANDBOX}/sandbox/api/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'sandbox-app', member_id: memberId, scope }),
  });
  assert.equal(a.status, 200);
  const { code } = await a.json();
  const t = await fetch(`${SANDBOX}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'sandbox-app', client_secret: 'sandbox-secret' }),
  });
  assert.equal(t.status, 200);
  return t.json();
}

/** Every EOB of a member, counted independently of the client under test. */
export async function eobCount(memberId) {
  const { access_token: token } = await headlessToken(memberId);
  const r = await fetch(`${FHIR_BASE}/ExplanationOfBenefit?_summary=count`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
  });
  assert.equal(r.status, 200);
  return (await r.json()).total;
}

// ---- the network's other plans ---------------------------------------------------------------

/** Every plan of the network by id: name, fhir_base, authorize, profile and members. */
export async function plans() {
  const r = await fetch(`${SANDBOX}/sandbox/api/plans`);
  assert.equal(r.status, 200);
  return Object.fromEntries((await r.json()).map((p) => [p.id, p]));
}

/** The member of `plan` (an entry of plans()) with the given first name. */
export function planMember(plan, given) {
  const member = plan.members.find((m) => m.given === given);
  assert.ok(member, `no member ${given} in ${plan.id}`);
  return member;
}

/**
 * A token of `planId` for the built-in confidential app, the CI way: headless authorize with
 * PKCE (which Cascade requires of every app), then the code exchange with the secret in HTTP
 * Basic (`auth` 'basic', Cascade's way) or in the form body ('body', Lakeshore's way).
 */
export async function planToken(planId, memberId, scope, auth) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const a = await fetch(`${SANDBOX}/sandbox/api/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      plan: planId, client_id: 'sandbox-app', member_id: memberId, scope,
      code_challenge: challenge, code_challenge_method: 'S256',
    }),
  });
  assert.equal(a.status, 200, await a.clone().text());
  const { code } = await a.json();
  const form = { grant_type: 'authorization_code', code, code_verifier: verifier };
  const headers = {};
  if (auth === 'basic') headers.authorization = `Basic ${Buffer.from('sandbox-app:sandbox-secret').toString('base64')}`;
  else Object.assign(form, { client_id: 'sandbox-app', client_secret: 'sandbox-secret' });
  const t = await fetch(`${SANDBOX}/oauth2/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
  assert.equal(t.status, 200, await t.clone().text());
  return t.json();
}

/** The claims of a JWT's payload (no signature check: the suites compare, not trust). */
export function jwtClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

// ---- a member at the pages, over plain HTTP ------------------------------------------------

function decode(s) {
  return s.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

/** The forms of a page: action, method and the named input fields with their values. */
export function forms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, open, body]) => {
    const a = attrs(open);
    const fields = [...body.matchAll(/<input\b([^>]*)>/gi)]
      .map(([, t]) => attrs(t))
      .filter((f) => f.name && !['submit', 'button', 'image', 'reset'].includes((f.type || 'text').toLowerCase()))
      .map((f) => [f.name, f.value ?? '']);
    return { action: a.action || '', method: (a.method || 'get').toLowerCase(), fields };
  });
}

export function links(html) {
  return [...html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)].map(([, open, text]) => ({
    href: attrs(open).href,
    text: text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim(),
  }));
}

/**
 * Follows `url` through the sandbox's own redirects and pages; returns {page} for a page, or
 * {redirect} for the first redirect that leaves the sandbox (back to the app).
 */
async function follow(response) {
  const origin = new URL(SANDBOX).origin;
  while ([301, 302, 303, 307, 308].includes(response.status)) {
    const target = new URL(response.headers.get('location'), response.url || SANDBOX).href;
    if (new URL(target).origin !== origin) return { redirect: target };
    response = await fetchNoFollow(target);
  }
  return { page: { url: response.url, status: response.status, html: await response.text() } };
}

async function fetchNoFollow(url, init = {}) {
  const r = await fetch(url, { ...init, redirect: 'manual' });
  // undici leaves `url` empty on manual redirects; remember where we were.
  Object.defineProperty(r, 'url', { value: url });
  return r;
}

async function submit(page, form, answers) {
  const named = new Set(form.fields.map(([n]) => n));
  const body = new URLSearchParams([
    ...form.fields.map(([n, v]) => [n, answers[n] ?? v]),
    ...Object.entries(answers).filter(([n]) => !named.has(n)),
  ]);
  assert.equal(form.method, 'post');
  return follow(await fetchNoFollow(new URL(form.action || page.url, page.url).href, {
    method: 'POST',
    body,
    headers: { origin: new URL(SANDBOX).origin, referer: page.url },
  }));
}

function formWith(page, name, value) {
  const f = forms(page.html).find((f) => f.fields.some(([n, v]) => n === name && (value === undefined || v === value)));
  assert.ok(f, `no form with ${name} on ${page.url}`);
  return f;
}

/**
 * Creates an account for `member`, enters the emailed code, allows; returns the app redirect.
 * `planName` is the plan whose sign-in pages the authorize URL leads to.
 */
export async function approveOverHttp(authorizeUrl, member, email = uniqueEmail('node'), planName = 'Demo Health Plan') {
  const { page: start } = await follow(await fetchNoFollow(authorizeUrl));
  assert.ok(start, 'authorize shows the sign-in page');
  assert.equal(start.status, 200, start.html.slice(0, 400));
  assert.ok(start.html.includes(`Sign in to ${planName}`), `the sign-in page of ${planName}`);
  const create = links(start.html).find((l) => l.text.startsWith('Create an account'));
  assert.ok(create, 'a Create an account link');
  const { page: form } = await follow(await fetchNoFollow(new URL(create.href, start.url).href));
  const { page: verify } = await submit(form, formWith(form, 'member_id'), {
    first_name: member.given, last_name: member.family, member_id: member.member_id,
    postal_code: member.postal_code, email,
  });
  assert.ok(verify && verify.status === 200, 'account details accepted');
  const { page: consent } = await submit(verify, formWith(verify, 'code'), { code: await latestCode(email) });
  assert.ok(consent && consent.status === 200, 'code accepted');
  assert.ok(consent.html.includes(`${member.given} ${member.family}`));
  const { redirect } = await submit(consent, formWith(consent, 'decision', 'allow'), {});
  assert.ok(redirect, 'consent redirects to the app');
  return redirect;
}

// ---- a tiny web server for the apps ---------------------------------------------------------

/** Starts `handler` on 127.0.0.1 at a free port; resolves to {url, close}. */
export function serve(handler) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      Promise.resolve(handler(req, res)).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e && e.stack || e));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) });
    });
  });
}
