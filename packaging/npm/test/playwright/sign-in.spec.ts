// A member signs in through the sandbox's own pages in a real browser, with the helper in a
// worker fixture doing what a test harness does: start the server, read the verification email
// from the outbox, move the clock, stop it.
import { test as base, expect } from '@playwright/test';
import { startSandbox, type Sandbox, type TokenResponse } from 'payer-sandbox';

const test = base.extend<{}, { sandbox: Sandbox }>({
  sandbox: [
    async ({}, use) => {
      const sandbox = await startSandbox();
      await use(sandbox);
      await sandbox.stop();
    },
    { scope: 'worker' },
  ],
});

test.beforeEach(async ({ sandbox }) => {
  await sandbox.reset();
});

// The app's redirect URI; the browser never reaches it: the test catches the redirect.
const CALLBACK = 'http://localhost/callback';

test('a member signs in, consents, and the app gets a working code', async ({ page, sandbox }) => {
  const [member] = await sandbox.members();
  let redirected: URL | undefined;
  await page.route(`${CALLBACK}**`, async (route) => {
    redirected = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the app' });
  });

  const authorize = new URL(`${sandbox.url}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'sandbox-app',
    redirect_uri: CALLBACK,
    scope: 'patient/*.read openid fhirUser',
    state: 'state-123',
    nonce: 'nonce-456',
    aud: sandbox.fhirBase,
  }).toString();
  await page.goto(authorize.toString());

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in to Demo Health Plan');
  await expect(page.getByText('Sandbox App')).toBeVisible();
  await page.getByRole('link', { name: /Create an account/ }).click();

  await page.getByLabel('First Name').fill(member.given);
  await page.getByLabel('Last Name').fill(member.family);
  await page.getByLabel('Member ID').fill(member.member_id);
  await page.getByLabel('Postal Code').fill(member.postal_code);
  await page.getByLabel('Email').fill('jason@example.com');
  await page.getByRole('button', { name: 'Continue' }).click();

  // The code "sent" to the member is in the outbox.
  const outbox: { to: string; code: string }[] = await sandbox.api('GET', 'outbox');
  const email = outbox.find((m) => m.to === 'jason@example.com');
  expect(email?.code).toMatch(/^\d{6}$/);
  await page.getByLabel(/code/i).fill(email!.code);
  await page.getByRole('button', { name: /verify|continue/i }).click();

  // Consent names the member and the app.
  await expect(page.locator('main')).toContainText(`${member.given} ${member.family}`);
  await expect(page.locator('main')).toContainText('Sandbox App');
  await page.getByRole('button', { name: /allow/i }).click();

  await expect.poll(() => redirected?.searchParams.get('state')).toBe('state-123');
  const code = redirected!.searchParams.get('code');
  expect(code).toMatch(/^[0-9a-f]{32}$/);

  // The app exchanges the code as it would, and reads the member's record.
  const res = await fetch(`${sandbox.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: CALLBACK,
      client_id: 'sandbox-app',
      client_secret: 'sandbox-secret',
    }),
  });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as TokenResponse;
  expect(tokens.patient).toBe(member.patient_id);
  const patient = await sandbox.fhir(`Patient/${member.patient_id}`, tokens);
  expect(patient.status).toBe(200);

  // The browser's requests are in the log, and the report sees a proper authorization request.
  const report = await sandbox.report({ clientId: 'sandbox-app' });
  expect(report.checks.authorize_state.status).toBe('met');
  expect(report.checks.authorize_nonce.status).toBe('met');
});

test('the sandbox page shows the clock the helper moved', async ({ page, sandbox }) => {
  await sandbox.clock.advance(86400 * 2);
  const { now } = await sandbox.clock.now();
  await page.goto(`${sandbox.url}/sandbox`);
  await expect(page.locator('main')).toContainText(now.slice(0, 10));
  await expect(page.locator('main')).toContainText('08-testmemid');
});
