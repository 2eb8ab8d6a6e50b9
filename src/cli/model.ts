// `tezip model install PATH` / `tezip model list`: the local model registry (src/pipeline/registry.ts).
import { UsageError } from './args.js';

type Opts = Record<string, string | number | boolean | undefined>;

export async function run(positionals: string[], opts: Opts): Promise<number> {
  const [sub, ...rest] = positionals;
  const reg = require('../pipeline/registry.js') as typeof import('../pipeline/registry.js');
  if (sub === 'install') {
    if (rest.length !== 1) throw new UsageError(`model install takes one model folder, got ${rest.length}`);
    const r = reg.installModel(rest[0], {
      name: typeof opts.name === 'string' ? opts.name : undefined,
      version: typeof opts.version === 'string' ? opts.version : undefined,
      force: Boolean(opts.force),
    });
    if (opts.json) process.stdout.write(JSON.stringify(r) + '\n');
    else
      process.stdout.write(
        `${r.alreadyInstalled ? 'already installed' : 'installed'} ${r.name}@${r.version} (sha256 ${r.sha256}) in ${r.dir}\n`,
      );
    return 0;
  }
  if (sub === 'list') {
    if (rest.length !== 0) throw new UsageError('model list takes no arguments');
    const models = reg.listModels();
    if (opts.json) process.stdout.write(JSON.stringify(models) + '\n');
    else if (models.length === 0) process.stdout.write(`no models installed in ${reg.modelsDir()}\n`);
    else for (const m of models) process.stdout.write(`${m.name}@${m.version}  sha256 ${m.sha256}  installed ${m.installedAt}  from ${m.source}\n`);
    return 0;
  }
  throw new UsageError(sub === undefined ? 'model needs a subcommand: install or list' : `unknown model subcommand ${JSON.stringify(sub)} (expected install or list)`);
}
