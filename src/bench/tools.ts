// Running tools as whole processes, finding them, and describing the machine they ran on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

/** True when `cmd` is an executable path or is found on PATH. */
export function has(cmd: string): boolean {
  if (cmd.includes('/')) {
    try {
      fs.accessSync(cmd, fs.constants.X_OK);
      return fs.statSync(cmd).isFile();
    } catch {
      return false;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      const p = path.join(dir, cmd);
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The first non-empty line a command prints (stdout, then stderr), or null when it cannot run. */
export function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  if (r.error) return null;
  return ((r.stdout || '') + (r.stderr || '')).split('\n').find((l) => l.trim())?.trim() ?? null;
}

export function dpkgVersion(pkg: string): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Version}\\n', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim().split('\n').join(', ') : null;
}

/** How long a measurement may take: fast commands run again (up to MAX_RUNS) and keep their fastest run. */
export const TIMING_BUDGET_S = 1;
export const MAX_RUNS = 5;

/**
 * Runs a whole process and times it (start-up included, as for every tool); stdout optionally into a file.
 * A run that took less than TIMING_BUDGET_S is repeated, up to MAX_RUNS runs or the budget, and the fastest
 * counts: one slow run (a busy machine, a cold cache) would otherwise decide a figure, and slow tools still run
 * once. The command writes the same output each time. Throws with the tool's last stderr line when it fails.
 */
export function timedRun(cmd: string, args: string[], stdoutFile?: string, env?: NodeJS.ProcessEnv): number {
  let best = Infinity;
  let spent = 0;
  for (let run = 0; run < MAX_RUNS && spent < TIMING_BUDGET_S; run++) {
    const seconds = timedOnce(cmd, args, stdoutFile, env);
    best = Math.min(best, seconds);
    spent += seconds;
  }
  return best;
}

function timedOnce(cmd: string, args: string[], stdoutFile?: string, env?: NodeJS.ProcessEnv): number {
  const fd = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'ignore';
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', fd, 'pipe'], maxBuffer: 1 << 26, env });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    if (r.status !== 0) {
      const err = String(r.stderr || '').trim().split('\n').slice(-1)[0] || (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
      throw new Error(`${path.basename(cmd)} exited ${r.status ?? r.signal}: ${err}`);
    }
    return seconds;
  } finally {
    if (typeof fd === 'number') fs.closeSync(fd);
  }
}

export interface MachineSummary {
  cpu: string;
  /** SIMD-related flags from /proc/cpuinfo (x86) or Features (arm). */
  cpuFlags: string[];
  /** The SIMD paths tezip's core chose at run time on this CPU. */
  tezipSimd: string | null;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  tezip: string | null;
  tools: Record<string, string | null>;
}

const SIMD_FLAGS = ['sse2', 'ssse3', 'sse4_1', 'sse4_2', 'popcnt', 'avx', 'avx2', 'fma', 'bmi2', 'avx512f', 'avx512bw', 'avx512vl', 'neon', 'asimd', 'sve'];

function cpuFlags(): string[] {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    if (!line) return [];
    const have = new Set(line.split(':')[1].trim().split(/\s+/));
    return SIMD_FLAGS.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

/** Versions of every anchor tool (null = not installed) and of the machine. `sz3` is SZ3_BIN when set. */
export function machineSummary(root: string, sz3: string | null): MachineSummary {
  const cpus = os.cpus();
  let tezip: string | null = null;
  try {
    tezip = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  } catch {
    // unknown
  }
  let tezipSimd: string | null = null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    tezipSimd = (require('../native.js') as typeof import('../native.js')).native().cpuFeatures() || 'portable';
  } catch {
    tezipSimd = null;
  }
  const ver = (tool: string, f: () => string | null) => (has(tool) ? f() ?? 'installed (version unknown)' : null);
  const tools: Record<string, string | null> = {
    zstd: ver('zstd', () => firstLine('zstd', ['--version'])),
    xz: ver('xz', () => firstLine('xz', ['--version'])),
    aec: ver('aec', () => dpkgVersion('libaec-tools')),
    fpzip: ver('fpzip', () => dpkgVersion('fpzip-utils')),
    zfp: ver('zfp', () => firstLine('zfp', [])), // no arguments: usage, headed by the version
    ffmpeg: ver('ffmpeg', () => firstLine('ffmpeg', ['-hide_banner', '-version'])?.replace(/\s*Copyright.*$/, '') ?? null),
    libx264: ver('ffmpeg', () => dpkgVersion('libx264-*')),
    libx265: ver('ffmpeg', () => dpkgVersion('libx265-*')),
    sz3: sz3 ? (has(sz3) ? firstLine(sz3, ['-v']) ?? 'installed (version unknown)' : null) : null,
  };
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cpuFlags: cpuFlags(),
    tezipSimd,
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    tezip,
    tools,
  };
}

export function machineLine(m: MachineSummary): string {
  const tools = Object.entries(m.tools)
    .map(([k, v]) => `${k}: ${v ?? 'not installed'}`)
    .join('; ');
  return (
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, flags ${m.cpuFlags.join(' ') || '?'}; node ${m.node}, ${m.platform}; ` +
    `tezip ${m.tezip ?? '?'} (SIMD ${m.tezipSimd ?? '?'}); ${tools}`
  );
}
