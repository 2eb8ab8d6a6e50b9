// Running the built `tezip` CLI from pipeline tests.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot(__dirname);
export const CLI = path.join(ROOT, 'dist/cli/main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tezip(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TEZIP_DEBUG: '', SSH_AUTH_SOCK: '', ...env },
    timeout: 120000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tezipAsync(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TEZIP_DEBUG: '', SSH_AUTH_SOCK: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Expected failures: exactly one line `tezip: ...` on stderr, no stack trace. */
export function assertOneLineError(r: Run, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^tezip: \S/);
  assert.doesNotMatch(lines[0], /internal error/);
  if (pattern) assert.match(lines[0], pattern);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function readJsonl(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}
