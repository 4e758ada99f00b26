// SMART client-js in headless Chromium (playwright-core driving the system's Chromium): a
// two-page app served from another origin launches against the sandbox, the test fills the
// real sign-in pages as a person would, and the app shows the member's name and EOB count.
// Along the way every page is photographed at desktop and phone sizes, and so is the sandbox's
// timeline of what one app did.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SHOTS, VIEWPORTS, openBrowser, shot, startApp, waitForApp } from './lib/browser.mjs';
import { ARTIFACTS, FHIR_BASE, JASON, SANDBOX, control, eobCount, latestCode, members, uniqueEmail } from './lib/sandbox.mjs';

describe('JS fhirclient in headless Chromium', () => {
  let app, jason, expectedEobs;
  const log = [];
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await startApp();
    jason = (await members())[JASON];
    expectedEobs = await eobCount(JASON);
    assert.notEqual(new URL(app.url).origin, new URL(SANDBOX).origin);
  });
  after(async () => {
    await app?.close();
    writeFileSync(join(ARTIFACTS, 'browser-console.log'), log.join('\n') + '\n');
    // Leave the shared server on the wall clock, its data as loaded, for whatever runs next.
    await control('/clock/reset');
  });

  for (const size of Object.keys(VIEWPORTS)) {
    test(`${size}: new member creates an account, verifies, allows; the app shows name and EOB count`, async () => {
      const { page, close } = await openBrowser(size, log);
      try {
        const email = uniqueEmail(`chromium-${size}`);
        const sandboxRequests = [];
        page.on('request', (r) => { if (r.url().startsWith(SANDBOX)) sandboxRequests.push(`${r.method()} ${r.url()}`); });

        await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(FHIR_BASE)}`);
        await page.waitForURL(/\/oauth2\/login\/[0-9a-f]+$/);
        await assert.doesNotReject(page.getByRole('heading', { name: 'Sign in to Demo Health Plan' }).waitFor());
        const authorize = sandboxRequests.find((r) => r.includes('/oauth2/authorize'));
        assert.ok(authorize, 'the app went to the authorize endpoint');
        const params = new URL(authorize.split(' ')[1]).searchParams;
        assert.equal(params.get('code_challenge_method'), 'S256', 'PKCE S256 from SMART discovery');
        assert.equal(params.get('aud'), FHIR_BASE);
        assert.ok(sandboxRequests.some((r) => r.endsWith('/r4/.well-known/smart-configuration')));
        await shot(page, `${size}-01-start`);

        await page.getByRole('link', { name: /Create an account/ }).click();
        await page.waitForURL(/\/create$/);
        await shot(page, `${size}-02-create-account`);
        // A mistyped postal code first: the page says so and keeps what was typed.
        await page.getByLabel('First Name').fill(jason.given);
        await page.getByLabel('Last Name').fill(jason.family);
        await page.getByLabel('Member ID').fill(jason.member_id);
        await page.getByLabel('Postal Code').fill('99999');
        await page.getByLabel('Email').fill(email);
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('alert').waitFor();
        assert.equal(await page.getByLabel('Member ID').inputValue(), jason.member_id);
        await shot(page, `${size}-02c-create-account-error`);
        await page.getByLabel('First Name').fill(jason.given);
        await page.getByLabel('Last Name').fill(jason.family);
        await page.getByLabel('Member ID').fill(jason.member_id);
        await page.getByLabel('Postal Code').fill(jason.postal_code);
        await page.getByLabel('Email').fill(email);
        await shot(page, `${size}-02b-create-account-filled`);
        await page.getByRole('button', { name: 'Continue' }).click();

        await page.waitForURL(/\/verify$/);
        await shot(page, `${size}-03-verify`);
        if (size === 'desktop') {
          await page.getByLabel('Verification code').fill('000000' === (await latestCode(email)) ? '111111' : '000000');
          await page.getByRole('button', { name: 'Verify' }).click();
          await page.getByRole('alert').waitFor();
          await shot(page, `${size}-03b-verify-wrong-code`);
        }
        await page.getByLabel('Verification code').fill(await latestCode(email));
        await page.getByRole('button', { name: 'Verify' }).click();

        await page.waitForURL(/\/consent$/);
        await page.getByText(`${jason.given} ${jason.family}`).first().waitFor();
        await shot(page, `${size}-04-consent`);
        await page.getByRole('button', { name: 'Allow' }).click();

        await page.waitForURL((u) => u.href.startsWith(`${app.url}/index.html`));
        await waitForApp(page);
        assert.equal(await page.locator('#member-name').textContent(), `${jason.given} ${jason.family}`);
        assert.equal(Number(await page.locator('#eob-count').textContent()), expectedEobs);
        await shot(page, `${size}-05-app`);

        // The token exchange and the FHIR reads crossed origins: CORS let them through.
        assert.ok(sandboxRequests.some((r) => r.startsWith('POST') && r.endsWith('/oauth2/token')));
        assert.ok(sandboxRequests.some((r) => r.includes('/r4/ExplanationOfBenefit')));
      } finally {
        await close();
      }
    });
  }

  test('desktop: a returning member signs in with their email', async () => {
    // First visit creates the account (over the pages, in one browser) ...
    const email = uniqueEmail('chromium-returning');
    let { page, close } = await openBrowser('desktop', log);
    try {
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(FHIR_BASE)}`);
      await page.getByRole('link', { name: /Create an account/ }).click();
      await page.getByLabel('First Name').fill(jason.given);
      await page.getByLabel('Last Name').fill(jason.family);
      await page.getByLabel('Member ID').fill(jason.member_id);
      await page.getByLabel('Postal Code').fill(jason.postal_code);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Verification code').fill(await latestCode(email));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await waitForApp(page);
    } finally {
      await close();
    }
    // ... the next visit, in a fresh profile, signs in with the email alone.
    ({ page, close } = await openBrowser('desktop', log));
    try {
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(FHIR_BASE)}`);
      await page.getByRole('link', { name: /Sign in/ }).click();
      await page.waitForURL(/\/signin$/);
      await shot(page, 'desktop-06-sign-in');
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send me a code' }).click();
      await page.waitForURL(/\/verify$/);
      await page.getByLabel('Verification code').fill(await latestCode(email));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await waitForApp(page);
      assert.equal(Number(await page.locator('#eob-count').textContent()), expectedEobs);
    } finally {
      await close();
    }
  });

  test('denying access sends the app an access_denied error', async () => {
    const email = uniqueEmail('chromium-deny');
    const { page, close } = await openBrowser('phone', log);
    try {
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(FHIR_BASE)}`);
      await page.getByRole('link', { name: /Create an account/ }).click();
      await page.getByLabel('First Name').fill(jason.given);
      await page.getByLabel('Last Name').fill(jason.family);
      await page.getByLabel('Member ID').fill(jason.member_id);
      await page.getByLabel('Postal Code').fill(jason.postal_code);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Verification code').fill(await latestCode(email));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.waitForFunction(() => document.body && document.body.dataset.state, null, { timeout: 20_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
      assert.match(await page.locator('#status').textContent(), /access_denied/);
      await shot(page, 'phone-07-app-denied');
    } finally {
      await close();
    }
  });

  test('an unknown app gets an error page, never a redirect', async () => {
    for (const size of Object.keys(VIEWPORTS)) {
      const { page, close } = await openBrowser(size, log);
      try {
        const redirect = `${app.url}/index.html`;
        const response = await page.goto(`${SANDBOX}/oauth2/authorize?client_id=no-such-app&response_type=code&redirect_uri=${encodeURIComponent(redirect)}&state=x`);
        assert.equal(response.status(), 400);
        assert.ok(page.url().startsWith(SANDBOX), 'stayed on the sandbox');
        await page.getByRole('alert').waitFor();
        await shot(page, `${size}-08-error-unknown-app`);
      } finally {
        await close();
      }
    }
  });

  test('the sandbox timeline pictures what an app did, at desktop and phone sizes', async () => {
    // An app of its own, so that its timeline holds this one session.
    const registered = await fetch(`${SANDBOX}/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Claims Viewer', token_endpoint_auth_method: 'none', redirect_uris: [`${app.url}/index.html`],
      }),
    });
    assert.equal(registered.status, 201);
    const clientId = (await registered.json()).client_id;
    const scope = 'launch/patient openid fhirUser offline_access patient/*.read';
    const email = uniqueEmail('chromium-timeline');
    // The app meets a 503 on purpose: its console stays out of the check of every page below.
    const appLog = [];
    let fault;
    let { page, close } = await openBrowser('desktop', appLog);
    try {
      // The browser's clock is moved with the sandbox's, so that the app sees its token expire.
      await page.clock.install();
      await page.goto(`${app.url}/launch.html?iss=${encodeURIComponent(FHIR_BASE)}&client_id=${clientId}&scope=${encodeURIComponent(scope)}`);
      await page.getByRole('link', { name: /Create an account/ }).click();
      await page.getByLabel('First Name').fill(jason.given);
      await page.getByLabel('Last Name').fill(jason.family);
      await page.getByLabel('Member ID').fill(jason.member_id);
      await page.getByLabel('Postal Code').fill(jason.postal_code);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Verification code').fill(await latestCode(email));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await waitForApp(page);

      // An hour later the token has expired: the app refreshes before it reads again.
      await control('/clock/advance', { seconds: 3601 });
      await page.clock.setSystemTime(Date.now() + 3601_000);
      await page.reload();
      await waitForApp(page);

      // The claims search fails once with a 503: the app gives up and says so ...
      fault = await control('/faults', { target: 'fhir', status: 503, path: '/r4/ExplanationOfBenefit', client_id: clientId });
      await page.reload();
      await page.waitForFunction(() => document.body && document.body.dataset.state, null, { timeout: 20_000 });
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'error');
      // ... and the member tries again a little later.
      await control('/clock/advance', { seconds: 5 });
      await page.clock.setSystemTime(Date.now() + 3606_000);
      await page.reload();
      await waitForApp(page);
    } finally {
      await close();
    }

    for (const size of Object.keys(VIEWPORTS)) {
      ({ page, close } = await openBrowser(size, log));
      try {
        const response = await page.goto(`${SANDBOX}/sandbox/timeline?client_id=${clientId}`);
        assert.equal(response.status(), 200);
        assert.match(response.headers()['content-security-policy'], /default-src 'none'.*style-src 'self'/);
        await page.getByRole('heading', { name: `What ${clientId} did` }).waitFor();
        // The stylesheet applied (the CSP let it load): the rows are laid out on the line.
        assert.equal(await page.locator('ol.timeline > li').first().evaluate((li) => getComputedStyle(li).display), 'grid');
        for (const kind of [
          'Discovery', 'Authorize', 'Sign-in: create account', 'Sign-in: verification code',
          'Consent: back to the app', 'Token: code exchange', 'FHIR read: Patient',
          'FHIR search: ExplanationOfBenefit', 'Token: refresh',
        ]) {
          assert.ok(await page.locator('.step .kind', { hasText: kind }).first().isVisible(), `${kind} is shown`);
        }
        assert.ok(await page.locator('.clock-move', { hasText: 'moved forward 3601 s' }).isVisible());
        const faulted = page.locator('.step', { has: page.locator('.mark-fault', { hasText: `fault ${fault.id}` }) });
        assert.equal(await faulted.locator('.status').textContent(), '503');
        assert.ok(await faulted.isVisible());
        // The app sends no nonce: the report check names its authorization request.
        assert.ok(await page.locator('.step', { hasText: 'Authorize' }).locator('.mark-check').first().isVisible());
        assert.ok(await page.locator('.failed-checks').isVisible());
        // Narrow screens stack the rows: the page never scrolls sideways.
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll');
        await shot(page, `timeline-${size}`);
      } finally {
        await close();
      }
    }
    const timelineProblems = log.filter((line) => line.includes('/sandbox/timeline') && /pageerror|requestfailed|console\.(error|warning)|Refused to/.test(line));
    assert.deepEqual(timelineProblems, []);
  });

  test('no script errors, CSP violations or failed loads on any page', () => {
    // The wrong code, the wrong postal code and the unknown app were answered 400 on purpose.
    const expected = /status of 400 \(Bad Request\) \(http:\/\/[^)]*\/oauth2\/(login\/[0-9a-f]+\/(verify|create)|authorize\?client_id=no-such-app[^)]*)\)/;
    const problems = log.filter((line) => !expected.test(line) && /pageerror|requestfailed|console\.error|Refused to/.test(line));
    assert.deepEqual(problems, []);
  });
});
