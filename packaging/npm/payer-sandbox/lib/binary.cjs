'use strict';
// Finds the payer-sandbox binary for this machine, as esbuild's launcher does: each supported
// platform has its own package (`@payer-sandbox/<platform>-<arch>`) holding only the binary,
// and npm installs the one whose `os` and `cpu` match, as an optional dependency of this one.

const fs = require('node:fs');
const path = require('node:path');

// `${process.platform}-${process.arch}` → the package that carries that binary. The build
// script (build-packages.mjs) keeps its own table in step with this one.
const PLATFORM_PACKAGES = {
  'linux-x64': '@payer-sandbox/linux-x64',
  'linux-arm64': '@payer-sandbox/linux-arm64',
  'darwin-x64': '@payer-sandbox/darwin-x64',
  'darwin-arm64': '@payer-sandbox/darwin-arm64',
  'win32-x64': '@payer-sandbox/win32-x64',
};

const ENV_VAR = 'PAYER_SANDBOX_BIN';

function platformKey() {
  return `${process.platform}-${process.arch}`;
}

function binaryName() {
  return process.platform === 'win32' ? 'payer-sandbox.exe' : 'payer-sandbox';
}

class BinaryNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BinaryNotFoundError';
    this.code = 'PAYER_SANDBOX_BINARY_NOT_FOUND';
  }
}

/**
 * The path of the binary to run: `$PAYER_SANDBOX_BIN` when set (a locally built server, or a
 * platform without a package), else the binary of the installed platform package.
 * Throws BinaryNotFoundError naming what is missing.
 */
function findBinary(env = process.env) {
  const fromEnv = env[ENV_VAR];
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) {
      throw new BinaryNotFoundError(`${ENV_VAR} is set to ${fromEnv}, but there is no file there.`);
    }
    return fromEnv;
  }
  const key = platformKey();
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new BinaryNotFoundError(
      `payer-sandbox has no prebuilt binary for ${key} (there are: ${Object.keys(PLATFORM_PACKAGES).join(', ')}). ` +
        `Build the server from source (cargo build --release) and set ${ENV_VAR} to the binary's path.`,
    );
  }
  const subpath = `${pkg}/bin/${binaryName()}`;
  try {
    return require.resolve(subpath);
  } catch (e) {
    throw new BinaryNotFoundError(
      `The package ${pkg}, which holds payer-sandbox's binary for ${key}, is not installed. ` +
        `npm installs it with payer-sandbox as an optional dependency; it is missing when ` +
        `installing skipped optional dependencies (--omit=optional, --no-optional), when ` +
        `node_modules was copied from another platform, or when a lockfile made elsewhere left ` +
        `it out. Reinstall without those (or run \`npm install ${pkg}@${ownVersion()}\`), or set ` +
        `${ENV_VAR} to the path of a payer-sandbox binary.`,
    );
  }
}

function ownVersion() {
  try {
    return require(path.join(__dirname, '..', 'package.json')).version;
  } catch {
    return 'latest';
  }
}

module.exports = { findBinary, platformKey, BinaryNotFoundError, PLATFORM_PACKAGES, ENV_VAR };
