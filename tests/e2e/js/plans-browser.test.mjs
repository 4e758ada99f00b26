// SMART client-js in headless Chromium against the network's other plans: the Claims Viewer of
// browser.test.mjs, launched with `iss` set to another plan's FHIR base, and the member filling
// that plan's own branded sign-in pages. Screenshots go to target/e2e/screenshots/ as
// `<plan>-<size>-*.png`.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SHOTS, openBrowser, shot, startApp, waitForApp } from './lib/browser.mjs';
import { ARTIFACTS, SANDBOX, control, latestCode, planMember, planToken, plans, uniqueEmail } from './lib/sandbox.mjs';

/** Every EOB the plan serves its member, counted with a token of the test's own. */
async function eobCount(plan, member) {
  const token = plan.id === 'cascade'
    ? await planToken('cascade', member.member_id, 'launch/patient patient/*.rs', 'basic')
    : await planToken(plan.id, member.member_id, 'patient/*.read', 'body');
  const patient = member.patient_id;
  const r = await fetch(`${plan.fhir_base}/ExplanationOfBenefit?patient=${patient}&_summary=count`, {
    headers: { authorization: `Bearer ${token.access_token}`, accept: 'application/fhir+json' },
  });
  assert.equal(r.status, 200);
  return (await r.json()).total;
}

// The colour each sign-in page's header asks for (its data-brand attribute, the colour of the
// plan's stylesheet) and the colour shown.
const brand = [];

async function noteBrand(page) {
  brand.push(await page.locator('header.site').evaluate((h) => {
    const hex = /#([0-9a-f]{6})/i.exec(h.getAttribute('data-brand') || '')?.[1];
    const asked = hex ? `rgb(${[0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})` : null;
    return { url: location.pathname, asked, shown: getComputedStyle(h).backgroundColor };
  }));
}

/** The member creates an account on the plan's pages, enters the emailed code and allows. */
async function signUp(page, plan, member, email, name) {
  await page.waitForURL(new RegExp(`/oauth2/login/${plan.id}\\.[0-9a-f]+$`));
  await page.getByRole('heading', { name: `Sign in to ${plan.name}` }).waitFor();
  await noteBrand(page);
  await shot(page, `${name}-01-start`);
  await page.getByRole('link', { name: /Create an account/ }).click();
  await page.getByLabel('First Name').fill(member.given);
  await page.getByLabel('Last Name').fill(member.family);
  await page.getByLabel('Member ID').fill(member.member_id);
  await page.getByLabel('Postal Code').fill(member.postal_code);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/\/verify$/);
  await page.getByLabel('Verification code').fill(await latestCode(email));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(/\/consent$/);
  await page.getByText(`${member.given} ${member.family}`).first().waitFor();
  assert.ok(await page.getByText(plan.name).first().isVisible(), 'the consent page names the plan');
  await noteBrand(page);
  await shot(page, `${name}-02-consent`);
  await page.getByRole('button', { name: 'Allow' }).click();
}

describe('JS fhirclient in headless Chromium, at the other plans', () => {
  let app, network;
  const log = [];
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startApp();
    network = await plans();
  });
  after(async () => {
    await app?.close();
    writeFileSync(join(ARTIFACTS, 'browser-console-plans.log'), log.join('\n') + '\n');
    await control('/clock/reset');
  });

  test('Lakeshore, desktop: signed in on Lakeshore\'s pages, the app that asks client-js for client.patient fails with "Patient is not available"', async () => {
    const lakeshore = network.lakeshore;
    const marisol = planMember(lakeshore, 'Marisol');
    const { page, close } = await openBrowser('desktop', log);
    try {
      const tokens = [];
      page.on('response', async (r) => {
        if (r.url() === `${SANDBOX}/oauth2/token` && r.request().method() === 'POST') tokens.push(await r.json());
      });
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(lakeshore.fhir_base)}`);
      await signUp(page, lakeshore, marisol, uniqueEmail('chromium-lakeshore'), 'lakeshore-desktop');
      await page.waitForURL((u) => u.href.startsWith(`${app.url}/index.html`));
      await waitForApp(page, 'error');
      assert.match(await page.locator('#status').textContent(), /Something went wrong: Patient is not available/);
      await shot(page, 'lakeshore-desktop-03-app-no-patient');
      // The token response the app got: an id_token, no patient, no refresh token.
      assert.equal(tokens.length, 1);
      assert.ok(tokens[0].id_token && tokens[0].access_token);
      assert.equal(tokens[0].patient, undefined);
      assert.equal(tokens[0].refresh_token, undefined);
    } finally {
      await close();
    }
  });

  test('Lakeshore, phone: launched with patient=fhirUser, the same app reads the patient from the id_token and shows the name and claim count', async () => {
    const lakeshore = network.lakeshore;
    const marisol = planMember(lakeshore, 'Marisol');
    const { page, close } = await openBrowser('phone', log);
    try {
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(lakeshore.fhir_base)}&patient=fhirUser`);
      await signUp(page, lakeshore, marisol, uniqueEmail('chromium-lakeshore'), 'lakeshore-phone');
      await waitForApp(page);
      assert.equal(await page.locator('#member-name').textContent(), `${marisol.given} ${marisol.family}`);
      assert.equal(await page.locator('#birth-date').textContent(), `(born ${marisol.birth_date})`);
      assert.equal(Number(await page.locator('#eob-count').textContent()), await eobCount(lakeshore, marisol));
      await shot(page, 'lakeshore-phone-03-app');
    } finally {
      await close();
    }
  });

  test('Cascade, desktop: with v2 scopes the app launches (PKCE, aud, launch/patient) and shows the name and claim count', async () => {
    const cascade = network.cascade;
    const marisol = planMember(cascade, 'Marisol');
    const scope = 'launch/patient openid fhirUser patient/*.rs';
    const { page, close } = await openBrowser('desktop', log);
    try {
      const sandboxRequests = [];
      page.on('request', (r) => { if (r.url().startsWith(SANDBOX)) sandboxRequests.push(`${r.method()} ${r.url()}`); });
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(cascade.fhir_base)}&scope=${encodeURIComponent(scope)}`);
      await signUp(page, cascade, marisol, uniqueEmail('chromium-cascade'), 'cascade-desktop');
      await waitForApp(page);
      assert.equal(await page.locator('#member-name').textContent(), `${marisol.given} ${marisol.family}`);
      assert.equal(Number(await page.locator('#eob-count').textContent()), await eobCount(cascade, marisol));
      await shot(page, 'cascade-desktop-03-app');
      const authorize = sandboxRequests.find((r) => r.startsWith(`GET ${cascade.authorize}?`));
      assert.ok(authorize, 'the app went to Cascade\'s authorize endpoint');
      const params = new URL(authorize.split(' ')[1]).searchParams;
      assert.equal(params.get('code_challenge_method'), 'S256');
      assert.equal(params.get('aud'), cascade.fhir_base);
      assert.equal(params.get('scope'), scope);
      assert.ok(sandboxRequests.includes(`GET ${cascade.fhir_base}/.well-known/smart-configuration`));
      assert.ok(sandboxRequests.some((r) => r.startsWith(`GET ${cascade.fhir_base}/ExplanationOfBenefit?`)));
    } finally {
      await close();
    }
  });

  test('Cascade, phone: the app\'s default v1 scope is refused before any sign-in page, and the app shows invalid_scope', async () => {
    const cascade = network.cascade;
    const { page, close } = await openBrowser('phone', log);
    try {
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(cascade.fhir_base)}`);
      await page.waitForURL((u) => u.href.startsWith(`${app.url}/index.html`));
      assert.equal(new URL(page.url()).searchParams.get('error'), 'invalid_scope');
      await waitForApp(page, 'error');
      assert.match(await page.locator('#status').textContent(), /invalid_scope: .*SMART v2 scopes only/);
      await shot(page, 'cascade-phone-01-app-invalid-scope');
    } finally {
      await close();
    }
  });

  // The colour comes from the plan's stylesheet (/brands/{id}/style.css), which the pages' CSP
  // (style-src 'self') allows; an inline style would be blocked.
  test('the sign-in pages show the plan\'s brand colour', () => {
    assert.ok(brand.length >= 4 && brand.every((b) => b.asked), JSON.stringify(brand));
    const wrong = brand.filter((b) => b.shown !== b.asked).map((b) => `${b.url}: ${b.asked} asked, ${b.shown} shown`);
    assert.ok(!wrong.length, `the plan's colour is not shown on ${wrong.length} pages, e.g. ${wrong[0]}`);
  });

  test('no script errors, CSP violations or failed loads on any page', () => {
    const problems = log.filter((line) => /pageerror|requestfailed|console\.error|Refused to/.test(line));
    assert.deepEqual(problems, []);
  });
});
