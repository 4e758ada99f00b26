// The ES module entry point: the same implementation as the CommonJS one (one copy of the
// code, one set of running sandboxes, whichever way it is loaded).
import cjs from './index.cjs';

export const { startSandbox, findBinary, Sandbox, SandboxError, BinaryNotFoundError } = cjs;
