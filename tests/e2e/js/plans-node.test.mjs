// SMART client-js (`fhirclient`), unmodified, with its Node adapter, against the network's other
// plans: the same small web app as node-adapter.test.mjs launched with `iss` set to another
// plan's FHIR base. Each test names the client behaviour the plan's profile brings out.
//
// Lakeshore Mutual Health: no `patient` in the token response (the id_token's fhirUser only), no
// refresh tokens, the client secret in the form body only, v1 scopes, pages of 100 with total,
// no _include, claims that name their coverage by identifier.
// Cascade Health Alliance: HTTP Basic, PKCE, aud and launch/patient of every app, v2 scopes
// only, pages of 10 without total, three includes, 900-second access tokens with rotating
// refresh tokens, 10 requests per second per token.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, describe, test } from 'node:test';

import { SCOPE, advance, launch, startApp, startLaunch } from './lib/node-app.mjs';
import { SANDBOX, approveOverHttp, control, jwtClaims, planMember, plans } from './lib/sandbox.mjs';

const CASCADE_SCOPE = 'launch/patient openid fhirUser offline_access patient/*.rs';
const BASIC = `Basic ${Buffer.from('sandbox-app:sandbox-secret').toString('base64')}`;

// The tests move the shared server's clock: leave it on the wall clock for whatever runs next.
after(() => control('/clock/reset'));

/** The token requests of an app, as the sandbox logged them. */
async function tokenRequests(clientId) {
  const r = await fetch(`${SANDBOX}/sandbox/api/requests?client_id=${clientId}&path=/oauth2/token`);
  return (await r.json()).map((e) => [e.grant_type, e.client_auth, e.status]);
}

/** Waits for the top of the next wall-clock second, which the sandbox clock follows. */
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 20);

/** The resources of a searchset Bundle with the given search mode. */
const byMode = (bundle, mode) => (bundle.entry || []).filter((e) => e.search?.mode === mode).map((e) => e.resource);

describe('Lakeshore Mutual Health: client-js launches a public app', () => {
  let lakeshore, marisol, app, authorizeUrl, client;
  before(async () => {
    ({ lakeshore } = await plans());
    marisol = planMember(lakeshore, 'Marisol');
    // The scope the default plan's tests ask for: launch/patient and offline_access included.
    app = await startApp({ clientId: 'sandbox-public-app', iss: lakeshore.fhir_base }, SCOPE);
    ({ authorizeUrl, client } = await launch(app, marisol, lakeshore.name));
  });
  after(() => app.close());

  test('discovery under /plans/lakeshore/r4 leads to /oauth2/authorize/lakeshore and its branded sign-in pages', () => {
    const u = new URL(authorizeUrl);
    assert.equal(`${u.origin}${u.pathname}`, lakeshore.authorize);
    assert.equal(u.searchParams.get('aud'), lakeshore.fhir_base);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(client.state.serverUrl, lakeshore.fhir_base);
    // (launch() walked the pages headed "Sign in to Lakeshore Mutual Health".)
  });

  test('no patient in the token response: client.patient.id is null and patient.read() rejects; the id_token fhirUser (getFhirUser(), user.id) names the patient', async () => {
    const tokenResponse = client.getState('tokenResponse');
    assert.equal(tokenResponse.patient, undefined);
    assert.match(tokenResponse.scope, /launch\/patient/, 'launch/patient was granted all the same');
    assert.equal(client.getPatientId(), null);
    assert.equal(client.patient.id, null);
    await assert.rejects(client.patient.read(), /Patient is not available/);
    await assert.rejects(client.patient.request('ExplanationOfBenefit'), /Patient is not available/);
    // What the app can use instead: the id_token's fhirUser (a full URL here; client-js keeps
    // the last two segments).
    assert.equal(jwtClaims(tokenResponse.id_token).fhirUser, `${lakeshore.fhir_base}/Patient/${marisol.patient_id}`);
    assert.equal(client.getFhirUser(), `Patient/${marisol.patient_id}`);
    assert.equal(client.user.resourceType, 'Patient');
    assert.equal(client.user.id, marisol.patient_id);
    const patient = await client.user.read();
    assert.equal(patient.id, marisol.patient_id);
    assert.equal(patient.name[0].family, marisol.family);
  });

  test('searches by the fhirUser id: every claim on one page of 100 with total, _include ignored and reported, resolveReferences leaves the identifier-only coverage alone', async () => {
    const bundle = await client.request(
      `ExplanationOfBenefit?patient=${client.user.id}&_include=ExplanationOfBenefit:insurer`,
      { resolveReferences: ['insurance.0.coverage'] },
    );
    const claims = byMode(bundle, 'match');
    assert.equal(bundle.total, claims.length);
    assert.ok(claims.length > 0 && !bundle.link.some((l) => l.relation === 'next'), 'one page');
    assert.match(bundle.link.find((l) => l.relation === 'self').url, /_count=100/);
    assert.deepEqual(byMode(bundle, 'include'), [], 'no _include followed');
    const [outcome] = byMode(bundle, 'outcome');
    assert.match(JSON.stringify(outcome), /ExplanationOfBenefit:insurer/);
    for (const claim of claims) {
      const coverage = claim.insurance[0].coverage;
      assert.equal(coverage.reference, undefined);
      assert.equal(coverage.resourceType, undefined, 'nothing to resolve: client-js skips it');
      assert.ok(coverage.identifier.value);
    }
    // The app finds the coverage by that identifier instead.
    const value = claims[0].insurance[0].coverage.identifier.value;
    const coverages = await client.request(`Coverage?identifier=${encodeURIComponent(value)}`, { flat: true });
    assert.equal(coverages.filter((c) => c.resourceType === 'Coverage').length, 1);
  });

  test('no refresh token although offline_access was granted: refresh() throws "Unable to refresh. No refresh_token found."', async () => {
    const tokenResponse = client.getState('tokenResponse');
    assert.match(tokenResponse.scope, /offline_access/);
    assert.equal(tokenResponse.refresh_token, undefined);
    assert.equal(tokenResponse.expires_in, 3600);
    assert.throws(() => client.refresh(), /Unable to refresh\. No refresh_token found\./);
  });

  test('an hour later the request gets 401 and client-js clears its state: "Session expired! Please re-launch the app"', async (t) => {
    await advance(3601);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 3601 * 1000 });
    try {
      // refreshIfNeeded() has no refresh token: the expired access token goes out as it is.
      const failed = await client.request(`Patient/${client.user.id}`).then(() => null, (e) => e);
      assert.ok(failed, 'the request failed');
      assert.equal(failed.status, 401);
      assert.match(failed.message, /Session expired! Please re-launch the app/);
      assert.deepEqual(client.getState('tokenResponse'), {}, 'the token response is gone');
      assert.equal(client.user.id, null);
    } finally {
      t.mock.timers.reset();
      await control('/clock/reset');
    }
  });
});

describe('Lakeshore Mutual Health: client-js as a confidential app', () => {
  let lakeshore, app;
  before(async () => {
    ({ lakeshore } = await plans());
    app = await startApp({ clientId: 'sandbox-app', clientSecret: 'sandbox-secret', iss: lakeshore.fhir_base }, SCOPE);
  });
  after(() => app.close());

  test('client-js sends clientSecret in HTTP Basic, which Lakeshore refuses: ready() rejects with 401 invalid_client', async () => {
    const before = (await tokenRequests('sandbox-app')).length;
    const { sid, authorizeUrl } = await startLaunch(app);
    const callback = await approveOverHttp(authorizeUrl, planMember(lakeshore, 'Yesenia'), undefined, lakeshore.name);
    const done = await fetch(callback, { headers: { cookie: sid } });
    assert.equal(done.status, 500, 'the app could not complete the launch');
    const error = await app.ready.then(() => null, (e) => e);
    assert.ok(error, 'ready() rejected');
    assert.equal(error.status, 401);
    assert.match(error.message, /invalid_client: client_secret_basic is not accepted by this plan's token endpoint: use client_secret_post/);
    assert.deepEqual((await tokenRequests('sandbox-app')).slice(before), [['authorization_code', 'client_secret_basic', 401]]);
  });
});

describe('Cascade Health Alliance: client-js launches a confidential app (HTTP Basic)', () => {
  let cascade, marisol, app, authorizeUrl, client;
  before(async () => {
    ({ cascade } = await plans());
    marisol = planMember(cascade, 'Marisol');
    app = await startApp({ clientId: 'sandbox-app', clientSecret: 'sandbox-secret', iss: cascade.fhir_base }, CASCADE_SCOPE);
    ({ authorizeUrl, client } = await launch(app, marisol, cascade.name));
  });
  after(() => app.close());
  // Cascade answers 10 requests per second per token: run back to back, these tests' few
  // requests each add up to more than that (client-js then fails them with 429), so each starts
  // in a second of its own, as an app that paces itself would.
  beforeEach(nextSecond);

  test('PKCE S256, aud, launch/patient and v2 scopes from discovery; HTTP Basic at the token endpoint; a 900-second token with patient', async () => {
    const u = new URL(authorizeUrl);
    assert.equal(`${u.origin}${u.pathname}`, cascade.authorize);
    assert.equal(u.searchParams.get('aud'), cascade.fhir_base);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(u.searchParams.get('code_challenge'));
    assert.equal(u.searchParams.get('scope'), CASCADE_SCOPE);
    const tokenResponse = client.getState('tokenResponse');
    assert.equal(tokenResponse.expires_in, 900);
    assert.ok(tokenResponse.refresh_token);
    assert.equal(client.getPatientId(), marisol.patient_id);
    assert.equal((await client.patient.read()).birthDate, marisol.birth_date);
    const log = await tokenRequests('sandbox-app');
    assert.deepEqual(log[log.length - 1], ['authorization_code', 'client_secret_basic', 200]);
  });

  test('the default page is 10 claims and has no total', async () => {
    const bundle = await client.request('ExplanationOfBenefit');
    const claims = byMode(bundle, 'match');
    assert.equal(bundle.total, undefined);
    assert.ok(claims.length > 0 && claims.length <= 10);
    assert.match(bundle.link.find((l) => l.relation === 'self').url, /_count=10\b/);
    // patient.request() finds the patient search parameter in Cascade's CapabilityStatement.
    const mine = await client.patient.request('ExplanationOfBenefit', { flat: true, pageLimit: 0 });
    assert.deepEqual(mine.map((r) => r.id).sort(), claims.map((r) => r.id).sort());
  });

  test('pageLimit 0 follows next links page by page (3 a page here), with no total on any page', async () => {
    const pages = [];
    const all = await client.request('ExplanationOfBenefit?_count=3', { pageLimit: 0, flat: true, onPage: (p) => pages.push(p) });
    assert.equal(all, null, 'with onPage the pages go to the callback');
    const ids = pages.flat().map((r) => r.id);
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    assert.ok(pages.slice(0, -1).every((p) => p.length === 3));
    assert.equal(new Set(ids).size, ids.length);
    const again = await client.request('ExplanationOfBenefit?_count=3', { pageLimit: 0 });
    assert.equal(again.length, pages.length, 'without flat: one Bundle per page');
    assert.ok(again.every((b) => b.total === undefined), 'no page carries a total');
    assert.deepEqual(again.flatMap((b) => byMode(b, 'match').map((r) => r.id)), ids);
  });

  test('_include: insurer is followed, provider is ignored and named in an OperationOutcome entry that flat: true returns among the resources', async () => {
    const url = 'ExplanationOfBenefit?_count=5&_include=ExplanationOfBenefit:insurer&_include=ExplanationOfBenefit:provider';
    const bundle = await client.request(url);
    assert.ok(byMode(bundle, 'include').some((r) => r.resourceType === 'Organization'));
    const [outcome] = byMode(bundle, 'outcome');
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(JSON.stringify(outcome.issue), /ExplanationOfBenefit:provider/);
    assert.doesNotMatch(JSON.stringify(outcome.issue), /ExplanationOfBenefit:insurer/);
    const flat = await client.request(url, { flat: true });
    assert.deepEqual([...new Set(flat.map((r) => r.resourceType))].sort(), ['ExplanationOfBenefit', 'OperationOutcome', 'Organization']);
  });

  test('fifteen requests at once: ten answered, the rest rejected with HttpError 429 and Retry-After 1; client-js does not retry', async () => {
    const logged = async () => (await (await fetch(`${SANDBOX}/sandbox/api/requests?client_id=sandbox-app&path=/plans/cascade/r4/Coverage`)).json()).length;
    const before = await logged();
    // Start at the top of a second: the limit counts requests per second of the sandbox clock.
    await nextSecond();
    const started = Math.floor(Date.now() / 1000);
    const results = await Promise.allSettled(Array.from({ length: 15 }, () => client.request('Coverage')));
    const inOneSecond = Math.floor(Date.now() / 1000) === started;
    const answered = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    assert.ok(refused.length > 0, 'some requests were throttled');
    if (inOneSecond) assert.deepEqual([answered.length, refused.length], [10, 5]);
    for (const error of refused) {
      assert.equal(error.name, 'HttpError');
      assert.equal(error.status, 429);
      assert.equal(error.response.headers.get('retry-after'), '1');
      assert.match(error.message, /throttled/);
    }
    assert.equal(await logged() - before, 15, 'one request each: no retry');
    // The app waits as Retry-After says; the next request is answered.
    await sleep(1000);
    assert.equal((await client.request('Coverage', { flat: true }))[0].resourceType, 'Coverage');
  });

  test('900 s later the client refreshes with HTTP Basic before its request, and the refresh token rotates', async (t) => {
    const old = client.getState('tokenResponse');
    await advance(901);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 901 * 1000 });
    try {
      assert.equal((await client.patient.read()).id, marisol.patient_id);
      const renewed = client.getState('tokenResponse');
      assert.notEqual(renewed.access_token, old.access_token);
      assert.notEqual(renewed.refresh_token, old.refresh_token, 'a new refresh token');
      const log = await tokenRequests('sandbox-app');
      assert.deepEqual(log[log.length - 1], ['refresh_token', 'client_secret_basic', 200]);
    } finally {
      t.mock.timers.reset();
      await control('/clock/reset');
    }
    // The used refresh token, sent again (as an app racing two refreshes would), is refused and
    // revokes the authorization: client-js's own refresh() then fails, and it drops its token.
    const reuse = await fetch(`${SANDBOX}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: BASIC },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: old.refresh_token }),
    });
    assert.equal(reuse.status, 400);
    assert.equal((await reuse.json()).error, 'invalid_grant');
    await assert.rejects(client.refresh(), (e) => e.status === 400 && /invalid_grant/.test(e.message));
    assert.equal(client.getState('tokenResponse.refresh_token'), undefined, 'client-js deleted its refresh token');
    assert.throws(() => client.refresh(), /No refresh_token found/);
  });
});

describe('Cascade Health Alliance: what it refuses of client-js', () => {
  let cascade, app;
  before(async () => {
    ({ cascade } = await plans());
    app = await startApp({ clientId: 'sandbox-app', clientSecret: 'sandbox-secret', iss: cascade.fhir_base }, SCOPE);
  });
  after(() => app.close());

  test('a v1 scope (patient/*.read) is refused at authorize: no sign-in, ready() rejects with invalid_scope', async () => {
    const { sid, authorizeUrl } = await startLaunch(app);
    const r = await fetch(authorizeUrl, { redirect: 'manual' });
    assert.equal(r.status, 302, 'straight back to the app');
    const callback = r.headers.get('location');
    assert.ok(callback.startsWith(`${app.url}/app?`), callback);
    assert.equal(new URL(callback).searchParams.get('error'), 'invalid_scope');
    const done = await fetch(callback, { headers: { cookie: sid } });
    assert.equal(done.status, 500);
    await assert.rejects(app.ready, /invalid_scope/);
  });
});
