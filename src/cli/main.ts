#!/usr/bin/env node
// `tezip` entry point: dispatches to a command, turns expected errors into one line on stderr and an exit code
// (1 bad input or data, 2 usage). Only the command that runs is loaded, so help and usage errors stay instant.
import { UsageError, parseArgs } from './args.js';
import { COMMANDS, commandHelp, mainHelp } from './commands.js';

/** Errors the user can cause and fix: reported in one line, no stack. */
function isExpected(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  if (e instanceof TypeError || e instanceof RangeError) return true;
  if (e.name === 'TezipError' || e.name === 'RawInputError' || e.name === 'VerificationError') return true;
  // Pipeline errors (src/pipeline): host keys, SSH setup, transfers.
  if (e.name === 'HostKeyError' || e.name === 'SshSetupError' || e.name === 'TransferError') return true;
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code); // ENOENT, EACCES, EISDIR, ENOSPC...
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError('missing command (try tezip --help)');
    if (name === '--help' || name === '-h' || name === 'help') {
      if (name === 'help' && rest[0]) {
        const c = COMMANDS.find((x) => x.name === rest[0]);
        if (!c) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`);
        process.stdout.write(commandHelp(c));
        return 0;
      }
      process.stdout.write(mainHelp());
      return 0;
    }
    if (name === '--version' || name === '-V') {
      process.stdout.write(require('../../package.json').version + '\n');
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)} (try tezip --help)`);
    const { positionals, options } = parseArgs(rest, cmd.options);
    if (options.help) {
      process.stdout.write(commandHelp(cmd));
      return 0;
    }
    return await cmd.load().run(positionals, options);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`tezip: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (isExpected(e)) {
      process.stderr.write(`tezip: ${oneLine(e.message)}\n`);
      if (process.env.TEZIP_DEBUG) process.stderr.write(String(e.stack) + '\n');
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`tezip: internal error: ${oneLine(msg)}${process.env.TEZIP_DEBUG ? '' : ' (TEZIP_DEBUG=1 shows the stack)'}\n`);
    if (process.env.TEZIP_DEBUG && e instanceof Error) process.stderr.write(String(e.stack) + '\n');
    return 1;
  }
}

if (require.main === module) {
  // A closed pipe (`tezip info x.tez | head`) is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`tezip: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
