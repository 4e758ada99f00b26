// A project without @types/node (lib.dom only), type-checked only.
import { startSandbox } from 'payer-sandbox';

export async function sample(): Promise<number> {
  const sandbox = await startSandbox();
  const tokens = await sandbox.login('08-testmemid', { scope: 'patient/*.read' });
  const res = await sandbox.fhir('Patient/jason-argonaut', tokens);
  const type: string | null = res.headers.get('content-type');
  const exit = await sandbox.stop();
  // @ts-expect-error: no such method
  sandbox.restart();
  return res.status + (exit.code ?? 0) + (type ? 1 : 0);
}
