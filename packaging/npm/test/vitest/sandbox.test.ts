// The helper as a Vitest suite would use it, against the installed package's binary.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, SandboxError, type Sandbox } from 'payer-sandbox';

const MEMBER = '08-testmemid';
const PATIENT = 'jason-argonaut';
const SCOPE = 'patient/*.read openid fhirUser offline_access';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox?.stop();
});

beforeEach(async () => {
  await sandbox.reset();
});

describe('startSandbox', () => {
  it('listens on a free loopback port and says so', async () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.url.endsWith(':8080')).toBe(false);
    expect(sandbox.fhirBase).toBe(`${sandbox.url}/r4`);
    expect(sandbox.log()).toContain(`payer-sandbox listening on ${sandbox.url}`);
    const res = await fetch(`${sandbox.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('lists the test members', async () => {
    const members = await sandbox.members();
    expect(members.find((m) => m.member_id === MEMBER)).toMatchObject({ patient_id: PATIENT, given: 'Jason' });
  });
});

describe('login and FHIR reads', () => {
  it('logs a member in headlessly and reads their Patient and claims', async () => {
    const tokens = await sandbox.login(MEMBER, { scope: SCOPE });
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.patient).toBe(PATIENT);
    expect(tokens.scope.split(' ')).toContain('openid');
    expect(tokens.refresh_token).toMatch(/^[0-9a-f]{32}$/);
    expect(tokens.id_token?.split('.')).toHaveLength(3);

    const patient = await sandbox.fhir(`Patient/${PATIENT}`, tokens);
    expect(patient.status).toBe(200);
    expect(patient.headers.get('content-type')).toContain('application/fhir+json');
    expect(patient.body).toMatchObject({ resourceType: 'Patient', id: PATIENT });

    const eobs = await sandbox.fhir(`ExplanationOfBenefit?patient=${PATIENT}`, tokens.access_token);
    expect(eobs.status).toBe(200);
    expect(eobs.body.resourceType).toBe('Bundle');
    expect(eobs.body.entry.length).toBeGreaterThan(0);

    // The token endpoint saw a real code exchange; the harness's own calls are not logged.
    const log = await sandbox.requests({ clientId: 'sandbox-app' });
    expect(log.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'POST /oauth2/token 200',
      `GET /r4/Patient/${PATIENT} 200`,
      'GET /r4/ExplanationOfBenefit 200',
    ]);
    expect(log[0].grant_type).toBe('authorization_code');
  });

  it('refuses a read without a token', async () => {
    const res = await sandbox.fhir(`Patient/${PATIENT}`, null);
    expect(res.status).toBe(401);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('passes request options on: headers (a Headers object too) and the method', async () => {
    const metadata = await sandbox.fhir('metadata');
    expect(metadata.body.resourceType).toBe('CapabilityStatement');
    const xml = await sandbox.fhir('metadata', null, { headers: new Headers({ accept: 'application/fhir+xml' }) });
    expect(xml.status).toBe(406);
    const head = await sandbox.fhir('metadata', null, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('logs in with the public app (PKCE) too', async () => {
    const tokens = await sandbox.login(MEMBER, { client: 'sandbox-public-app', scope: 'patient/*.read' });
    expect((await sandbox.fhir(`Patient/${PATIENT}`, tokens)).status).toBe(200);
  });

  it('reports a refused login as a SandboxError', async () => {
    const err = await sandbox.login('no-such-member').catch((e) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect(err.status).toBe(400);
    expect(err.error).toBe('invalid_request');
  });
});

describe('the clock', () => {
  it('expires an access token without waiting, and a refresh brings a new one', async () => {
    const tokens = await sandbox.login(MEMBER, { scope: SCOPE });
    expect(tokens.expires_in).toBe(3600);
    expect((await sandbox.fhir(`Patient/${PATIENT}`, tokens)).status).toBe(200);

    const before = await sandbox.clock.now();
    expect(before.offset_seconds).toBe(0);
    const after = await sandbox.clock.advance(3601);
    expect(after.offset_seconds).toBe(3601);
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(3600_000);

    const expired = await sandbox.fhir(`Patient/${PATIENT}`, tokens);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');

    const refreshed = await sandbox.refresh(tokens);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await sandbox.fhir(`Patient/${PATIENT}`, refreshed)).status).toBe(200);

    expect((await sandbox.clock.reset()).offset_seconds).toBe(0);
  });
});

describe('faults', () => {
  it('answers the next matching request with the injected error, once', async () => {
    const tokens = await sandbox.login(MEMBER, { scope: SCOPE });
    const fault = await sandbox.faults.add({
      target: 'fhir',
      path: '/r4/ExplanationOfBenefit',
      status: 429,
      retry_after: 2,
    });
    expect(fault).toMatchObject({ target: 'fhir', status: 429, count: 1, remaining: 1 });
    expect(await sandbox.faults.list()).toHaveLength(1);

    // Not this path: untouched.
    expect((await sandbox.fhir(`Patient/${PATIENT}`, tokens)).status).toBe(200);

    const limited = await sandbox.fhir(`ExplanationOfBenefit?patient=${PATIENT}`, tokens);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body.issue[0].code).toBe('throttled');
    expect(await sandbox.faults.list()).toHaveLength(0);

    const entry = (await sandbox.requests({ path: '/r4/ExplanationOfBenefit' })).at(-1);
    expect(entry).toMatchObject({ status: 429, fault: fault.id, retry_after: 2 });

    await sandbox.clock.advance(2);
    expect((await sandbox.fhir(`ExplanationOfBenefit?patient=${PATIENT}`, tokens)).status).toBe(200);
  });

  it('removes faults', async () => {
    await sandbox.faults.add({ target: 'token', error: 'temporarily_unavailable', count: 5 });
    const second = await sandbox.faults.add({ target: 'fhir', status: 503 });
    expect(await sandbox.faults.remove(second.id)).toBe(1);
    expect(await sandbox.faults.clear()).toBe(1);
    expect(await sandbox.faults.list()).toEqual([]);
  });

  it('refuses a fault with a typo, with the server’s reason', async () => {
    const err = await sandbox.faults.add({ target: 'fhir', status: 503, ['retry-after' as 'retry_after']: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect(err.status).toBe(400);
    expect(err.message).toContain('retry-after');
  });
});

describe('the report', () => {
  it('judges what the client did', async () => {
    const tokens = await sandbox.login(MEMBER, { scope: SCOPE });
    await sandbox.faults.add({ target: 'fhir', path: '/r4/ExplanationOfBenefit', status: 429, retry_after: 2 });
    expect((await sandbox.fhir(`ExplanationOfBenefit?patient=${PATIENT}`, tokens)).status).toBe(429);
    await sandbox.clock.advance(2);
    expect((await sandbox.fhir(`ExplanationOfBenefit?patient=${PATIENT}`, tokens)).status).toBe(200);

    const report = await sandbox.report({ clientId: 'sandbox-app' });
    expect(report.client_id).toBe('sandbox-app');
    expect(report.checks.eob_search.status).toBe('met');
    expect(report.checks.handles_429.status).toBe('met');
    expect(report.checks.tokens_not_in_urls.status).toBe('met');
    expect(report.checks.coverage.status).toBe('not_met');
    expect(report.checks.token_refresh.status).toBe('not_met');

    const junit = await sandbox.report({ clientId: 'sandbox-app', format: 'junit' });
    expect(junit).toContain('<testsuites');
    expect(junit).toMatch(/<testcase [^>]*name="coverage"[^>]*>\s*<failure/);
  });
});

describe('reset', () => {
  it('forgets tokens, faults, the request log and the clock', async () => {
    const tokens = await sandbox.login(MEMBER, { scope: SCOPE });
    await sandbox.faults.add({ target: 'fhir', status: 500 });
    await sandbox.clock.advance(60);
    expect((await sandbox.requests()).length).toBeGreaterThan(0);

    expect(await sandbox.reset()).toEqual({ reset: true });

    expect(await sandbox.faults.list()).toEqual([]);
    expect((await sandbox.clock.now()).offset_seconds).toBe(0);
    expect(await sandbox.requests()).toEqual([]);
    expect((await sandbox.fhir(`Patient/${PATIENT}`, tokens)).status).toBe(401);
  });
});

describe('a sandbox of its own', () => {
  it('passes flags on (--strict still logs in: the helper sends PKCE)', async () => {
    const strict = await startSandbox({ args: ['--strict', '--access-token-ttl', '60'] });
    try {
      expect(strict.url).not.toBe(sandbox.url);
      const tokens = await strict.login(MEMBER, { scope: 'patient/*.read offline_access' });
      expect(tokens.expires_in).toBe(60);
      expect((await strict.fhir(`Patient/${PATIENT}`, tokens)).status).toBe(200);
    } finally {
      await strict.stop();
    }
  });

  it('stops with SIGTERM, exits 0 and leaves no process behind', async () => {
    const other = await startSandbox();
    const pid = other.pid;
    expect(other.running).toBe(true);
    expect(await other.stop()).toEqual({ code: 0, signal: null });
    expect(other.running).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
    // Calls after stop() say the server is gone.
    await expect(other.members()).rejects.toThrow(/not running/);
  });

  it('rejects with the server’s own message when it cannot start', async () => {
    await expect(startSandbox({ args: ['--no-such-flag'] })).rejects.toThrow(/exited with code 2 before it was listening[\s\S]*--no-such-flag/);
  });

  it('names the missing binary', async () => {
    await expect(startSandbox({ binary: '/nonexistent/payer-sandbox' })).rejects.toThrow(/could not be started.*ENOENT/);
  });
});
