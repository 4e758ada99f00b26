// SMART client-js (`fhirclient`), unmodified, with its Node adapter: a small web app on its
// own port launches against the sandbox (discovery from .well-known/smart-configuration, PKCE
// S256), a member signs in on the real pages over HTTP, the app's redirect page calls
// `ready()`, and the client reads, searches, pages and refreshes. Also: an asymmetric app
// (`private_key_jwt` with `clientPrivateJwk`) and a launch with a granular scope.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { SCOPE, advance, launch, startApp } from './lib/node-app.mjs';
import { FHIR_BASE, JASON, ROSA, SANDBOX, control, eobCount, members } from './lib/sandbox.mjs';

// The tests move the shared server's clock: leave it on the wall clock, its data as loaded, for
// whatever runs next.
after(() => control('/clock/reset'));

describe('public app (sandbox-public-app, PKCE)', () => {
  let app, who, authorizeUrl, client;
  before(async () => {
    who = await members();
    app = await startApp({ clientId: 'sandbox-public-app' });
    ({ authorizeUrl, client } = await launch(app, who[JASON]));
  });
  after(() => app.close());

  test('authorize URL comes from SMART discovery, with PKCE S256 and aud', () => {
    const u = new URL(authorizeUrl);
    assert.equal(`${u.origin}${u.pathname}`, `${SANDBOX}/oauth2/authorize`);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(u.searchParams.get('code_challenge'));
    assert.equal(u.searchParams.get('aud'), FHIR_BASE);
    assert.equal(u.searchParams.get('scope'), SCOPE);
  });

  test('ready() gives patient context, the fhirUser from the id_token, and scopes', () => {
    assert.equal(client.getPatientId(), who[JASON].patient_id);
    assert.equal(client.getFhirUser(), `Patient/${who[JASON].patient_id}`);
    assert.equal(client.getUserType(), 'Patient');
    assert.match(client.getState('tokenResponse.scope'), /patient\/\*\.read/);
  });

  test('patient.read() and user.read()', async () => {
    const patient = await client.patient.read();
    assert.equal(patient.name[0].family, 'Argonaut');
    const user = await client.user.read();
    assert.equal(user.id, patient.id);
  });

  test('patient.request() finds the patient search parameter from the CapabilityStatement', async () => {
    const coverages = await client.patient.request('Coverage', { flat: true });
    assert.equal(coverages.length, 2);
    const eobs = await client.patient.request('ExplanationOfBenefit', { pageLimit: 0, flat: true });
    assert.equal(eobs.length, await eobCount(JASON));
  });

  test('request() with _include and resolveReferences', async () => {
    const bundle = await client.request('ExplanationOfBenefit?_count=5&_include=ExplanationOfBenefit:insurer', {
      resolveReferences: ['provider'],
    });
    assert.equal(bundle.resourceType, 'Bundle');
    const matches = bundle.entry.filter((e) => e.search.mode === 'match');
    assert.ok(matches.length > 0 && matches.length <= 5);
    assert.ok(bundle.entry.some((e) => e.search.mode === 'include' && e.resource.resourceType === 'Organization'));
    // graph mode: each resolved reference is replaced by the resource it points to
    const resolved = matches.map((e) => e.resource.provider).filter((p) => p && p.resourceType);
    assert.equal(resolved.length, matches.length, 'provider references resolved by follow-up reads');
  });

  test('refresh() with a rotating refresh token', async () => {
    const before = client.getState('tokenResponse');
    await client.refresh();
    const afterwards = client.getState('tokenResponse');
    assert.notEqual(afterwards.access_token, before.access_token);
    assert.notEqual(afterwards.refresh_token, before.refresh_token, 'public refresh tokens rotate');
    assert.equal((await client.patient.read()).id, who[JASON].patient_id);
  });
});

describe('confidential app (sandbox-app, client secret)', () => {
  let app, who, client;
  before(async () => {
    who = await members();
    app = await startApp({ clientId: 'sandbox-app', clientSecret: 'sandbox-secret' });
    ({ client } = await launch(app, who[ROSA]));
  });
  after(() => app.close());

  test('pages through every EOB with pageLimit 0', async () => {
    const pages = [];
    await client.request('ExplanationOfBenefit?_count=50', { pageLimit: 0, onPage: (b) => pages.push(b) });
    assert.equal(pages.length, 3);
    const ids = pages.flatMap((b) => b.entry.map((e) => e.resource.id));
    assert.equal(new Set(ids).size, pages[0].total);
    assert.equal(ids.length, await eobCount(ROSA));
  });

  test('an hour later the client refreshes before its request (HTTP Basic)', async (t) => {
    const old = client.getState('tokenResponse.access_token');
    const refreshToken = client.getState('tokenResponse.refresh_token');
    // Move both clocks past the access token's hour: the sandbox's and the app's.
    await advance(3700);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 3700 * 1000 });
    try {
      const patient = await client.request(`Patient/${client.getPatientId()}`);
      assert.equal(patient.name[0].family, 'Delgado');
      assert.notEqual(client.getState('tokenResponse.access_token'), old);
      assert.equal(client.getState('tokenResponse.refresh_token'), refreshToken, 'confidential refresh tokens stay');
    } finally {
      t.mock.timers.reset();
      await fetch(`${SANDBOX}/sandbox/api/clock/reset`, { method: 'POST' });
    }
  });
});

const fixture = (name) => JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'));

describe('asymmetric app (private_key_jwt, ES384), registered over RFC 7591 with its JWKS', () => {
  const options = {};
  let app, who, client, clientId;
  before(async () => {
    who = await members();
    app = await startApp(options);
    const r = await fetch(`${SANDBOX}/oauth2/register`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'client-js asymmetric', redirect_uris: [`${app.url}/app`],
        token_endpoint_auth_method: 'private_key_jwt', jwks: fixture('client-jwks.json'),
      }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    ({ client_id: clientId } = await r.json());
    Object.assign(options, { clientId, clientPrivateJwk: fixture('client-es384-private.jwk.json') });
    ({ client } = await launch(app, who[JASON]));
  });
  after(() => app.close());

  // client-js 2.6 signs an assertion for the code exchange; its refresh() sends none (a
  // confidential app's refresh then fails authentication, as it must), so only the exchange is
  // exercised here; tests/api covers refresh with an assertion.
  test('the code exchange authenticates with a signed client assertion', async () => {
    assert.equal((await client.patient.read()).id, who[JASON].patient_id);
    const log = await (await fetch(`${SANDBOX}/sandbox/api/requests?client_id=${clientId}&path=/oauth2/token`)).json();
    assert.deepEqual(log.map((e) => [e.grant_type, e.client_auth, e.status]), [
      ['authorization_code', 'private_key_jwt', 200],
    ]);
  });
});

describe('granular scope: Conditions of one category only', () => {
  const problems = 'patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item';
  let app, who, client;
  before(async () => {
    who = await members();
    app = await startApp({ clientId: 'sandbox-public-app' }, `launch/patient openid fhirUser patient/Patient.rs ${problems}`);
    ({ client } = await launch(app, who[JASON]));
  });
  after(() => app.close());

  test('the token grants the constrained scope as asked, and searches see only that category', async () => {
    assert.match(client.getState('tokenResponse.scope'), /Condition\.rs\?category=/);
    const conditions = await client.patient.request('Condition', { flat: true });
    assert.deepEqual(conditions.map((c) => c.category[0].coding[0].code), ['problem-list-item']);
    const all = await client.request('Condition?_count=1');
    assert.equal(all.total, 1, 'totals count only what the token may see');
  });
});
