#!/usr/bin/env node
// Builds payer-sandbox's npm packages from release binaries, as tarballs ready for
// `npm publish` (this script publishes nothing):
//
//   node packaging/npm/build-packages.mjs --out DIR PLATFORM=BINARY [PLATFORM=BINARY …]
//
//   PLATFORM is linux-x64, linux-arm64, darwin-x64, darwin-arm64 or win32-x64.
//
// Writes to DIR:
//   payer-sandbox-VERSION.tgz                      the main package: the `payer-sandbox` command
//                                                  and the startSandbox() helper, with an optional
//                                                  dependency on every platform package
//   payer-sandbox-PLATFORM-VERSION.tgz             one per PLATFORM=BINARY given
//                                                  (@payer-sandbox/PLATFORM: the binary alone)
//
// VERSION is the [package] version of the repository's Cargo.toml (or --version). The main
// package is always built and always names every platform, so that the packages of one release
// built on several machines fit together. Each binary is checked to be an executable for its
// platform (ELF, Mach-O or PE header and CPU), so a binary cannot land in the wrong package.
// Needs Node 18+ and npm; no network.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SCOPE = '@payer-sandbox';

// Kept in step with payer-sandbox/lib/binary.cjs.
const PLATFORMS = {
  'linux-x64': { os: 'linux', cpu: 'x64', exe: 'payer-sandbox', format: 'elf', machine: 0x3e, label: 'Linux x86-64' },
  'linux-arm64': { os: 'linux', cpu: 'arm64', exe: 'payer-sandbox', format: 'elf', machine: 0xb7, label: 'Linux AArch64' },
  'darwin-x64': { os: 'darwin', cpu: 'x64', exe: 'payer-sandbox', format: 'macho', machine: 0x01000007, label: 'macOS x86-64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64', exe: 'payer-sandbox', format: 'macho', machine: 0x0100000c, label: 'macOS arm64' },
  'win32-x64': { os: 'win32', cpu: 'x64', exe: 'payer-sandbox.exe', format: 'pe', machine: 0x8664, label: 'Windows x64' },
};

function usage(msg) {
  if (msg) console.error(`build-packages: ${msg}`);
  console.error(
    'usage: node build-packages.mjs --out DIR [--version VERSION] [--keep-stage] PLATFORM=BINARY [...]\n' +
      `  PLATFORM: ${Object.keys(PLATFORMS).join(', ')}`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: null, version: null, keepStage: false, binaries: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = argv[++i];
    else if (a.startsWith('--out=')) opts.out = a.slice(6);
    else if (a === '--version') opts.version = argv[++i];
    else if (a.startsWith('--version=')) opts.version = a.slice(10);
    else if (a === '--keep-stage') opts.keepStage = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.includes('=') && !a.startsWith('-')) {
      const eq = a.indexOf('=');
      opts.binaries.push({ platform: a.slice(0, eq), binary: a.slice(eq + 1) });
    } else usage(`unexpected argument ${a}`);
  }
  if (!opts.out) usage('--out DIR is required');
  const seen = new Set();
  for (const { platform, binary } of opts.binaries) {
    if (!PLATFORMS[platform]) usage(`unknown platform ${platform}`);
    if (seen.has(platform)) usage(`${platform} given twice`);
    seen.add(platform);
    if (!binary) usage(`${platform}= needs a binary`);
  }
  return opts;
}

// The version of Cargo.toml's [package] table.
function cargoVersion() {
  const text = fs.readFileSync(path.join(REPO, 'Cargo.toml'), 'utf8');
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].trim();
      continue;
    }
    const m = /^version\s*=\s*"([^"]+)"/.exec(line);
    if (m && section === 'package') return m[1];
  }
  throw new Error('no version in the [package] table of Cargo.toml');
}

// Reads just enough of an executable's header to say which platform it is for.
function checkBinary(file, platform) {
  const spec = PLATFORMS[platform];
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new Error(`${file} is not a file`);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4096);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const fail = (what) => {
    throw new Error(`${file} is not a ${spec.label} executable (${what}), so it cannot go into ${SCOPE}/${platform}`);
  };
  if (n < 64) fail('too short');
  if (spec.format === 'elf') {
    if (head.readUInt32BE(0) !== 0x7f454c46) fail('no ELF header');
    if (head[4] !== 2) fail('not 64-bit ELF');
    const machine = head[5] === 1 ? head.readUInt16LE(18) : head.readUInt16BE(18);
    if (machine !== spec.machine) fail(`ELF machine 0x${machine.toString(16)}`);
  } else if (spec.format === 'macho') {
    const magic = head.readUInt32LE(0);
    if (magic === 0xfeedfacf) {
      const cpu = head.readUInt32LE(4);
      if (cpu !== spec.machine) fail(`Mach-O CPU type 0x${cpu.toString(16)}`);
    } else if (head.readUInt32BE(0) === 0xcafebabe) {
      // A universal binary: fine if one of its slices is this CPU.
      const count = head.readUInt32BE(4);
      let found = false;
      for (let i = 0; i < count && 8 + i * 20 + 4 <= n; i++) {
        if (head.readUInt32BE(8 + i * 20) === spec.machine) found = true;
      }
      if (!found) fail('universal binary without this CPU');
    } else fail('no 64-bit Mach-O header');
  } else if (spec.format === 'pe') {
    if (head.toString('latin1', 0, 2) !== 'MZ') fail('no MZ header');
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 > n || head.toString('latin1', pe, pe + 4) !== 'PE\0\0') fail('no PE header');
    const machine = head.readUInt16LE(pe + 4);
    if (machine !== spec.machine) fail(`PE machine 0x${machine.toString(16)}`);
  }
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function copyDir(from, to, skip = () => false) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyDir(src, dst, skip);
    else if (entry.isFile()) {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
    }
  }
}

function platformPackage(stage, platform, binary, version, main) {
  const spec = PLATFORMS[platform];
  const dir = path.join(stage, platform);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const exe = path.join(dir, 'bin', spec.exe);
  fs.copyFileSync(binary, exe);
  fs.chmodSync(exe, 0o755);
  writeJson(path.join(dir, 'package.json'), {
    name: `${SCOPE}/${platform}`,
    version,
    description: `The ${spec.label} binary of payer-sandbox. Install payer-sandbox, which picks this package for this platform.`,
    license: main.license,
    keywords: ['payer-sandbox'],
    os: [spec.os],
    cpu: [spec.cpu],
    files: [`bin/${spec.exe}`, 'README.md'],
    // Yarn PnP: keep the binary on disk so it can be executed.
    preferUnplugged: true,
    engines: { node: '>=18' },
  });
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# ${SCOPE}/${platform}\n\nThe ${spec.label} binary of [payer-sandbox](https://www.npmjs.com/package/payer-sandbox), ` +
      `version ${version}. Do not install this package yourself: install \`payer-sandbox\`, whose ` +
      `optional dependencies include this one, and npm picks it on ${spec.label}.\n`,
  );
  return dir;
}

function mainPackage(stage, version) {
  const src = path.join(HERE, 'payer-sandbox');
  const dir = path.join(stage, 'payer-sandbox');
  copyDir(src, dir, (name) => name === 'node_modules' || name.endsWith('.tgz'));
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  pkg.version = version;
  pkg.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`${SCOPE}/${p}`, version]));
  writeJson(path.join(dir, 'package.json'), pkg);
  fs.chmodSync(path.join(dir, 'bin', 'payer-sandbox.cjs'), 0o755);
  return { dir, pkg };
}

function npmPack(dir, out) {
  // On Windows npm is a .cmd script, which Node runs only through a shell: quote the path.
  const windows = process.platform === 'win32';
  const json = execFileSync(windows ? 'npm.cmd' : 'npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', windows ? `"${out}"` : out], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: windows,
  });
  const [info] = JSON.parse(json);
  return path.join(out, info.filename);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const version = opts.version || cargoVersion();
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`${version} is not a semver version`);
  for (const { platform, binary } of opts.binaries) checkBinary(binary, platform);

  const out = path.resolve(opts.out);
  fs.mkdirSync(out, { recursive: true });
  const stage = fs.mkdtempSync(path.join(out, '.stage-'));
  const made = [];
  try {
    const main = mainPackage(stage, version);
    made.push(npmPack(main.dir, out));
    for (const { platform, binary } of opts.binaries) {
      made.push(npmPack(platformPackage(stage, platform, path.resolve(binary), version, main.pkg), out));
    }
  } finally {
    if (!opts.keepStage) fs.rmSync(stage, { recursive: true, force: true });
  }

  console.log(`payer-sandbox ${version}: ${made.length} npm package${made.length === 1 ? '' : 's'} in ${out}`);
  for (const file of made) {
    const data = fs.readFileSync(file);
    const sha = createHash('sha256').update(data).digest('hex');
    console.log(`${sha}  ${String(data.length).padStart(10)} bytes  ${path.basename(file)}`);
  }
}

try {
  main();
} catch (e) {
  console.error(`build-packages: ${e.message}`);
  process.exit(1);
}
