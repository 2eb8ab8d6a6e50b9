// npm run fuzz -- [--seconds N] [--targets a,b,...] [--no-build]
// Builds the libFuzzer targets (native/fuzz, clang, ASan+UBSan, folder build/fuzz), writes the seed
// corpora (scripts/fuzz-seeds.mjs), replays the committed regression inputs (native/fuzz/regressions),
// then runs each target for N seconds, one after the other, and prints executions per second and coverage.
// The corpora grow in build/fuzz/corpus/<target>; findings land in build/fuzz/findings/<target>.
// Exit status 1 when any target finds something (the input is kept; minimise it with
// `build/fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE` and add it to native/fuzz/regressions/).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const buildDir = path.join(root, 'build', 'fuzz');
const NATIVE = ['decode_chunk', 'inspect_chunk', 'rans', 'rans_rows', 'roundtrip', 'container_reader', 'json', 'prednet_model'];
const ALL = [...NATIVE, 'container'];

function parseArgs(argv) {
  const a = { seconds: 60, targets: ALL, build: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--seconds') a.seconds = Number(argv[++i]);
    else if (k === '--targets') a.targets = argv[++i].split(',');
    else if (k === '--no-build') a.build = false;
    else if (k === '--help' || k === '-h') {
      console.log('usage: npm run fuzz -- [--seconds N] [--targets ' + ALL.join(',') + '] [--no-build]');
      process.exit(0);
    } else fail(`unknown argument ${k}`);
  }
  if (!(a.seconds > 0)) fail('--seconds must be a positive number');
  for (const t of a.targets) if (!ALL.includes(t)) fail(`unknown target ${t} (known: ${ALL.join(', ')})`);
  return a;
}

function fail(msg) {
  console.error(`fuzz: ${msg}`);
  process.exit(2);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function build() {
  if (spawnSync('clang++', ['--version']).status !== 0) {
    fail('clang++ not found: apt-get install -y clang libclang-rt-14-dev');
  }
  run('cmake', ['-S', '.', '-B', buildDir, '-DTEZIP_FUZZ=ON', '-DCMAKE_BUILD_TYPE=Release'], {
    env: { ...process.env, CC: 'clang', CXX: 'clang++' },
  });
  run('cmake', ['--build', buildDir, '-j', '2']);
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) run('npx', ['tsc', '-p', 'tsconfig.json']);
}

// The last "#N ... cov: X ft: Y corp: Z" line and the final stats of a libFuzzer run.
function summarise(out) {
  const lines = out.split('\n');
  const last = [...lines].reverse().find((l) => /^#\d+\s+(DONE|pulse|NEW|REDUCE|INITED|RELOAD)/.test(l) || /^#\d+ DONE/.test(l)) ?? '';
  const stat = (k) => (out.match(new RegExp(`stat::${k}:\\s*(\\d+)`)) ?? [])[1];
  const cov = (last.match(/cov: (\d+)( of \d+ blocks)?/) ?? [])[0]?.replace('cov: ', '') ?? '?';
  const ft = (last.match(/ft: (\d+)/) ?? [])[1] ?? '?';
  const corp = (last.match(/corp: ([\d/]+\w*)/) ?? [])[1] ?? '?';
  return { execs: stat('number_of_executed_units') ?? '?', perSec: stat('average_exec_per_sec') ?? '?', cov, ft, corp };
}

function fuzzNative(t, seconds, seeds) {
  const exe = path.join(buildDir, `fuzz_${t}`);
  const corpus = path.join(buildDir, 'corpus', t);
  const findings = path.join(buildDir, 'findings', t);
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(findings, { recursive: true });
  const regressions = path.join(root, 'native', 'fuzz', 'regressions', t);
  if (fs.existsSync(regressions) && fs.readdirSync(regressions).length) {
    // Committed minimised findings must stay fixed: run them once before fuzzing.
    const files = fs.readdirSync(regressions).map((f) => path.join(regressions, f));
    const r = spawnSync(exe, files, { encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      return { failed: `regression input fails again (${regressions})` };
    }
  }
  const args = [
    `-max_total_time=${Math.round(seconds)}`,
    '-print_final_stats=1',
    '-timeout=10', // seconds for one input: a hang is a finding
    '-rss_limit_mb=2048', // a declared size that makes the decoder allocate without limit is a finding
    '-max_len=65536',
    `-artifact_prefix=${findings}${path.sep}`,
    corpus,
    path.join(seeds, t),
  ];
  const r = spawnSync(exe, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
  });
  const out = `${r.stdout}\n${r.stderr}`;
  fs.writeFileSync(path.join(buildDir, `fuzz_${t}.log`), out);
  const s = summarise(out);
  if (r.status !== 0) {
    const tail = out.split('\n').filter((l) => /ERROR|SUMMARY|runtime error|finding|Test unit written/.test(l)).slice(0, 12);
    return { ...s, failed: `exit ${r.status ?? r.signal}\n  ${tail.join('\n  ')}` };
  }
  return s;
}

function fuzzContainer(seconds, seeds) {
  const findings = path.join(buildDir, 'findings', 'container');
  const args = [
    path.join(root, 'scripts', 'fuzz-container.mjs'),
    '--seconds', String(seconds),
    '--corpus', path.join(buildDir, 'corpus', 'container'),
    '--seeds', path.join(seeds, 'container'),
    '--findings', findings,
  ];
  const regressions = path.join(root, 'test', 'fixtures', 'hostile');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const out = `${r.stdout}\n${r.stderr}`;
  fs.writeFileSync(path.join(buildDir, 'fuzz_container.log'), out);
  const s = summarise(out);
  if (r.status !== 0) return { ...s, failed: `exit ${r.status ?? r.signal}\n  ${out.split('\n').slice(-15).join('\n  ')}` };
  void regressions;
  return s;
}

const a = parseArgs(process.argv.slice(2));
if (a.build) build();
const seeds = path.join(buildDir, 'seeds');
fs.rmSync(seeds, { recursive: true, force: true });
run(process.execPath, [path.join(root, 'scripts', 'fuzz-seeds.mjs'), seeds]);

const rows = [];
let failed = 0;
for (const t of a.targets) {
  console.log(`fuzz: ${t} for ${a.seconds} s ...`);
  const s = t === 'container' ? fuzzContainer(a.seconds, seeds) : fuzzNative(t, a.seconds, seeds);
  rows.push({ t, ...s });
  if (s.failed) {
    failed++;
    console.error(`fuzz: ${t} FAILED: ${s.failed}`);
  } else {
    console.log(`fuzz: ${t}: ${s.execs} executions, ${s.perSec} exec/s, cov ${s.cov}, ft ${s.ft}, corpus ${s.corp}`);
  }
}
console.log('\ntarget          execs        exec/s   coverage            features  corpus  result');
for (const r of rows) {
  console.log(
    `${r.t.padEnd(15)} ${String(r.execs).padStart(10)} ${String(r.perSec).padStart(10)}   ${String(r.cov).padEnd(18)} ${String(r.ft).padStart(9)}  ${String(r.corp).padStart(6)}  ${r.failed ? 'FINDING' : 'ok'}`,
  );
}
console.log('(native coverage: libFuzzer edges "cov"; container: JS blocks run of blocks seen by V8)');
process.exit(failed ? 1 : 0);
