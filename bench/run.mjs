#!/usr/bin/env node
// `npm run bench`: `tezip bench` on the shared datasets (../shared/data), writing into bench/out/DATE/ unless
// --out says otherwise. The harness itself lives in src/bench (compiled to dist/bench), shared with the CLI.
//
//   node bench/run.mjs [--quick] [--datasets a,b] [--data DIR] [--no-anchors] [any `tezip bench` option]
//
// See bench/README.md.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const DEFAULT_DATASETS = ['moving_mnist', 'bulk_water', 'calcium_imaging', 'era5_t2m_uk'];

const argv = process.argv.slice(2);
let data = path.resolve(root, '../shared/data');
let datasets = null;
const rest = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (argv[i + 1] === undefined) {
      process.stderr.write(`bench: ${a} needs a value\n`);
      process.exit(2);
    }
    return argv[++i];
  };
  if (a === '--data') data = path.resolve(val());
  else if (a === '--datasets') datasets = val().split(',').filter(Boolean);
  else if (a === '--no-anchors') rest.push('--anchors', 'none');
  else rest.push(a);
}

const cli = path.join(root, 'dist/cli/main.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('bench: dist/cli/main.js not found; build first (npm run build)\n');
  process.exit(1);
}
const names = datasets ?? DEFAULT_DATASETS.filter((n) => fs.existsSync(path.join(data, n + '.json')));
if (!names.length) {
  process.stderr.write(`bench: no datasets found in ${data}\n`);
  process.exit(1);
}
const inputs = names.map((n) => path.join(data, n + '.json'));
if (!rest.includes('--out') && !rest.includes('-o')) {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  rest.push('--out', path.join(root, 'bench/out', stamp + (rest.includes('--quick') ? '-quick' : '')));
}
const { main } = require(cli);
process.exitCode = await main(['bench', ...inputs, ...rest]);
