// ESM usage, type-checked only (tsc --noEmit): every public name, and misuses that must not
// compile (each @ts-expect-error fails the check if its line is accepted).
import {
  startSandbox,
  findBinary,
  Sandbox,
  SandboxError,
  BinaryNotFoundError,
  type StartOptions,
  type LoginOptions,
  type TokenResponse,
  type FaultSpec,
  type Fault,
  type RequestLogEntry,
  type Report,
  type ClockState,
  type Member,
  type Plan,
  type FhirResponse,
  type ExitStatus,
} from 'payer-sandbox';

export async function sample(): Promise<void> {
  const options: StartOptions = { args: ['--strict'], env: { RUST_LOG: 'debug' }, startTimeoutMs: 10000 };
  const sandbox: Sandbox = await startSandbox(options);
  const url: string = sandbox.url;
  const members: Member[] = await sandbox.members({ plan: 'cascade' });
  const plans: Plan[] = await sandbox.plans();
  const login: LoginOptions = { scope: ['patient/*.read', 'openid'], client: { id: 'my-app', secret: 's' }, nonce: 'n' };
  const tokens: TokenResponse = await sandbox.login(members[0].member_id, login);
  const again: TokenResponse = await sandbox.refresh(tokens, { clientAuth: 'basic' });
  const res: FhirResponse<{ resourceType: string }> = await sandbox.fhir(`Patient/${tokens.patient}`, again);
  const status: number = res.status;
  const clock: ClockState = await sandbox.clock.advance(3601);
  const spec: FaultSpec = { target: 'fhir', status: 429, retry_after: 2, count: 3 };
  const fault: Fault = await sandbox.faults.add(spec);
  const removed: number = await sandbox.faults.remove(fault.id);
  const cleared: number = await sandbox.faults.clear();
  const log: RequestLogEntry[] = await sandbox.requests({ clientId: 'my-app' });
  const report: Report = await sandbox.report({ clientId: 'my-app' });
  const met: boolean = report.checks.handles_429.status === 'met';
  const junit: string = await sandbox.report({ format: 'junit' });
  const outbox = await sandbox.api<{ to: string; code: string }[]>('GET', 'outbox');
  const output: string = sandbox.log();
  const exit: ExitStatus = await sandbox.stop({ timeoutMs: 1000 });
  const bin: string = findBinary();
  try {
    await sandbox.reset();
  } catch (e) {
    if (e instanceof SandboxError) console.log(e.status, e.error, e.errorDescription);
    if (e instanceof BinaryNotFoundError) console.log(e.code);
  }
  console.log(url, plans, status, clock.now, removed, cleared, log[0]?.seq, met, junit, outbox[0]?.code, output, exit.code, bin);

  // @ts-expect-error: not a fault target
  await sandbox.faults.add({ target: 'database', status: 500 });
  // @ts-expect-error: seconds is a number
  await sandbox.clock.advance('3601');
  // @ts-expect-error: a member ID is required
  await sandbox.login();
  // @ts-expect-error: the JUnit report is text
  const notJson: Report = await sandbox.report({ format: 'junit' });
  // @ts-expect-error: url is read-only
  sandbox.url = 'http://elsewhere';
  console.log(notJson);
}
