// CommonJS usage (require), type-checked only.
import payerSandbox = require('payer-sandbox');

export async function sample(): Promise<string> {
  const sandbox: payerSandbox.Sandbox = await payerSandbox.startSandbox();
  const tokens: payerSandbox.TokenResponse = await sandbox.login('08-testmemid');
  const res = await sandbox.fhir('Patient/jason-argonaut', tokens.access_token);
  await sandbox.stop();
  // @ts-expect-error: stop() takes options, not a number
  await sandbox.stop(5000);
  return `${res.status}`;
}
