// `tezip send FILE... --to TARGET`: verified, resumable, parallel transfer (see src/pipeline/transfer.ts).
import { UsageError } from './args.js';
import { SshOptions } from '../pipeline/ssh.js';
import { ProgressBar, formatBytes } from '../pipeline/progress.js';
import { Target, parseTarget } from '../pipeline/target.js';
import type { SendOptions } from '../pipeline/transfer.js';
import type { VerifyMode } from '../pipeline/sftp-destination.js';

type Opts = Record<string, string | number | boolean | undefined>;

export function intOption(opts: Opts, name: string, min: number, max: number): number | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new UsageError(`expected an integer from ${min} to ${max} for --${name} but received ${v}`);
  return v;
}

export function positiveOption(opts: Opts, name: string): number | undefined {
  const v = opts[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new UsageError(`expected a positive number for --${name} but received ${v}`);
  return v;
}

export function targetOption(opts: Opts): Target {
  if (typeof opts.to !== 'string') throw new UsageError('missing --to TARGET (a folder or sftp://user@host[:port]/dir)');
  try {
    return parseTarget(opts.to);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The transfer options shared by send and watch. */
export function sendOptions(opts: Opts): SendOptions {
  const ssh: SshOptions = {};
  if (typeof opts['known-hosts'] === 'string') ssh.knownHosts = opts['known-hosts'];
  if (typeof opts.identity === 'string') ssh.identity = opts.identity;
  // The passphrase comes from the environment only: a command line shows up in `ps` and in shell history.
  if (process.env.TEZIP_SSH_PASSPHRASE) ssh.passphrase = process.env.TEZIP_SSH_PASSPHRASE;
  const timeout = intOption(opts, 'connect-timeout', 1, 600);
  if (timeout !== undefined) ssh.timeoutSeconds = timeout;
  const partMiB = positiveOption(opts, 'part-size');
  const rate = positiveOption(opts, 'limit-rate');
  const o: SendOptions = { ssh };
  const parallel = intOption(opts, 'parallel', 1, 64);
  if (parallel !== undefined) o.parallel = parallel;
  if (partMiB !== undefined) {
    const bytes = Math.round(partMiB * 1024 * 1024);
    if (bytes < 4096 || bytes > 1 << 30) throw new UsageError(`expected --part-size between 0.004 and 1024 (MiB) but received ${partMiB}`);
    o.partSize = bytes;
  }
  const retries = intOption(opts, 'retries', 0, 100);
  if (retries !== undefined) o.retries = retries;
  if (rate !== undefined) o.limitRate = rate * 1e6;
  if (typeof opts.state === 'string') o.stateDir = opts.state;
  if (typeof opts.verify === 'string') o.verify = opts.verify as VerifyMode;
  if (opts.reverify) o.reverify = true;
  return o;
}

/** SFTP status errors carry a number as code; give them one the CLI reports as a plain line. */
export function remoteError(e: unknown): unknown {
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'number')
    return Object.assign(new Error(`remote: ${e.message}`), { code: 'EREMOTE' });
  return e;
}

export async function run(positionals: string[], opts: Opts): Promise<number> {
  if (positionals.length === 0) throw new UsageError('send needs at least one FILE (try tezip send --help)');
  const target = targetOption(opts);
  const o = sendOptions(opts);
  const bar = ProgressBar.forStderr('send', Boolean(opts.quiet || opts.json));
  o.onProgress = (p) => bar?.update(p);
  o.log = (line) => {
    bar?.end();
    if (!opts.quiet) process.stderr.write(`tezip: ${line}\n`);
  };
  const { sendFiles } = require('../pipeline/transfer.js') as typeof import('../pipeline/transfer.js');
  let r: Awaited<ReturnType<typeof sendFiles>>;
  try {
    r = await sendFiles(positionals, target, o);
  } catch (e) {
    throw remoteError(e);
  } finally {
    bar?.end();
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
  } else {
    const sent = r.files.filter((f) => f.status !== 'skipped').length;
    process.stdout.write(
      `${r.files.length} file(s) at ${r.target}, sha256 verified (${r.verifyMethod}): ${sent} transferred, ${r.files.length - sent} already there; ` +
        `${formatBytes(r.bytesSent)} sent in ${r.seconds.toFixed(1)} s (${(r.bytesSent / 1e6 / Math.max(r.seconds, 1e-3)).toFixed(1)} MB/s), ` +
        `${r.partsReused} part(s) reused from an earlier run, ${r.partsRepaired} repaired, ${r.retries} retries\n`,
    );
  }
  return 0;
}
