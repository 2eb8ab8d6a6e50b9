#!/usr/bin/env node
// Transfer throughput of `tezip send` to a real OpenSSH server on loopback, with 1 and 4 parallel streams.
// Each run sends a fresh random file to a fresh folder with a fresh journal, and counts everything the command
// does: hashing the source, the parts, the sha256 at the destination and the rename.
//
//   node bench/transfer.mjs [--mb 256] [--part-mib 8] [--streams 1,4] [--verify auto|exec|readback] [--out DIR]
//
// Needs sshd (Debian openssh-server) and the built tests (npm run build:ts), whose helper starts the server.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}
const MB = Number(arg('mb', '256'));
const PART = Number(arg('part-mib', '8'));
const STREAMS = String(arg('streams', '1,4')).split(',').map(Number);
const VERIFY = arg('verify', 'auto');
const OUT = arg('out', path.join(ROOT, 'bench', 'out'));

let helper;
let transfer;
try {
  helper = require(path.join(ROOT, 'dist-test/test/helpers/sshd.js'));
  transfer = require(path.join(ROOT, 'dist/pipeline/transfer.js'));
} catch (e) {
  console.error(`bench/transfer: build first (npm run build:ts): ${e.message}`);
  process.exit(1);
}
const { parseTarget } = require(path.join(ROOT, 'dist/pipeline/target.js'));

const missing = helper.sshdMissing();
if (missing) {
  console.error(`bench/transfer: ${missing}`);
  process.exit(1);
}

const sshd = await helper.startSshd();
const rows = [];
try {
  const src = path.join(sshd.dir, 'payload.bin');
  // Random bytes: nothing on the way can compress them, so the figure is the transfer's own.
  const fd = fs.openSync(src, 'w');
  for (let i = 0; i < MB; i++) fs.writeSync(fd, crypto.randomBytes(1 << 20));
  fs.closeSync(fd);
  const want = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex');
  for (const streams of STREAMS) {
    const dest = path.join(sshd.dir, 'data', `p${streams}`);
    const r = await transfer.sendFiles([src], parseTarget(sshd.url(dest)), {
      parallel: streams,
      partSize: PART * 1024 * 1024,
      stateDir: path.join(sshd.dir, `state-${streams}`),
      verify: VERIFY,
      ssh: { knownHosts: sshd.knownHosts, identity: sshd.identity },
    });
    const got = crypto.createHash('sha256').update(fs.readFileSync(path.join(dest, 'payload.bin'))).digest('hex');
    if (got !== want) throw new Error(`destination differs from the source with ${streams} streams`);
    rows.push({
      streams,
      MiB: MB,
      partMiB: PART,
      seconds: r.seconds,
      MBps: (MB * 1048576) / 1e6 / r.seconds,
      verify: r.verifyMethod,
      retries: r.retries,
    });
    fs.rmSync(dest, { recursive: true, force: true });
  }
} finally {
  await sshd.stop();
}

const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${os.platform()}`;
console.log(`tezip send → sshd on 127.0.0.1 (${machine})`);
console.log('| streams | size | part | seconds | MB/s | verification |');
console.log('|---:|---:|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.streams} | ${r.MiB} MiB | ${r.partMiB} MiB | ${r.seconds.toFixed(2)} | ${r.MBps.toFixed(1)} | ${r.verify} |`);
fs.mkdirSync(OUT, { recursive: true });
const file = path.join(OUT, `transfer-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, JSON.stringify({ machine, rows }, null, 1) + '\n');
console.log(`written ${path.relative(process.cwd(), file)}`);
