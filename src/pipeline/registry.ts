// Local model registry: $TEZIP_HOME/models (default ~/.tezip/models). A trained model folder holds a
// manifest.json that lists its files with their sha256; `installModel` checks every one, copies the folder to
// models/NAME/VERSION/ and records (name, version, sha256 of the manifest) in models/registry.json.
// `resolveModel("NAME[@VERSION]")` finds an installed model (the highest version when none is given) and checks
// its files again, so a model that changed on disk is never used silently.
//
// What the registry needs from a model manifest (the PredNet trainer writes more, which is kept as it is):
//   { "name": "water", "version": "3",            (optional: folder name and "1")
//     "files": [ { "path": "weights.bin", "sha256": "<64 hex>", "bytes": 1234 }, ... ] }
// `files` entries may name the file with "path", "file" or "name"; a top-level { "weights": {...} } entry
// of the same form counts too.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TezipError } from '../errors';
import { tezipHome } from './home';

export interface ModelEntry {
  name: string;
  version: string;
  /** sha256 of the installed manifest.json (which pins every file by its own sha256). */
  sha256: string;
  installedAt: string;
  /** Where it was installed from (provenance only). */
  source: string;
}

export interface ResolvedModel extends ModelEntry {
  /** Folder of the installed model (holds manifest.json and its files). */
  dir: string;
  manifest: Record<string, unknown>;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_MANIFEST = 16 * 1024 * 1024;

export function modelsDir(home = tezipHome()): string {
  return path.join(home, 'models');
}

function registryFile(home: string): string {
  return path.join(modelsDir(home), 'registry.json');
}

function readRegistry(home: string): ModelEntry[] {
  try {
    const v = JSON.parse(fs.readFileSync(registryFile(home), 'utf8'));
    if (!Array.isArray(v?.models)) throw new Error('no models list');
    return (v.models as ModelEntry[]).filter((m) => m && NAME_RE.test(m.name) && NAME_RE.test(m.version) && /^[0-9a-f]{64}$/.test(m.sha256));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TezipError('TEZ_CORRUPT', `${registryFile(home)} is damaged (${(e as Error).message}); move it away to start a new registry`);
  }
}

function writeRegistry(home: string, models: ModelEntry[]): void {
  const file = registryFile(home);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', JSON.stringify({ models }, null, 1) + '\n');
  fs.renameSync(file + '.tmp', file);
}

/** Numbers compare as numbers, the rest as text: 1.10 > 1.9, 2 > 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

interface FileRef {
  path: string;
  sha256: string;
}

/** The files a manifest pins; names must stay inside the model folder. */
export function manifestFiles(m: Record<string, unknown>, where: string): FileRef[] {
  const raw: unknown[] = [];
  if (Array.isArray(m.files)) raw.push(...m.files);
  if (m.weights && typeof m.weights === 'object' && !Array.isArray(m.weights)) raw.push(m.weights);
  const out: FileRef[] = [];
  for (const r of raw) {
    if (!r || typeof r !== 'object') throw new TezipError('TEZ_CORRUPT', `${where}: a files entry is not an object`);
    const o = r as Record<string, unknown>;
    const p = o.path ?? o.file ?? o.name;
    if (typeof p !== 'string' || p === '' || path.isAbsolute(p) || p.split(/[\\/]/).some((x) => x === '..' || x === '') || p === 'manifest.json')
      throw new TezipError('TEZ_CORRUPT', `${where}: bad file name ${JSON.stringify(p)} (must be a relative path inside the model folder)`);
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(o.sha256)) throw new TezipError('TEZ_CORRUPT', `${where}: no sha256 for ${p}`);
    out.push({ path: p, sha256: o.sha256.toLowerCase() });
  }
  if (out.length === 0) throw new TezipError('TEZ_CORRUPT', `${where}: the manifest lists no files with a sha256`);
  return out;
}

function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function readManifest(dir: string): { text: Buffer; m: Record<string, unknown>; file: string } {
  const file = path.join(dir, 'manifest.json');
  let text: Buffer;
  try {
    if (fs.statSync(file).size > MAX_MANIFEST) throw new TezipError('TEZ_TOO_LARGE', `${file} is larger than ${MAX_MANIFEST} bytes`);
    text = fs.readFileSync(file);
  } catch (e) {
    if (e instanceof TezipError) throw e;
    throw Object.assign(new Error(`${dir} is not a model folder: cannot read manifest.json (${(e as NodeJS.ErrnoException).code ?? 'error'})`), {
      code: (e as NodeJS.ErrnoException).code ?? 'EIO',
    });
  }
  let m: unknown;
  try {
    m = JSON.parse(text.toString('utf8'));
  } catch {
    throw new TezipError('TEZ_CORRUPT', `${file}: not valid JSON`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new TezipError('TEZ_CORRUPT', `${file}: expected a JSON object`);
  return { text, m: m as Record<string, unknown>, file };
}

/** Checks every file a manifest pins; throws TEZ_CHECKSUM naming the first that differs. */
function verifyFiles(dir: string, files: FileRef[], where: string): void {
  for (const f of files) {
    const p = path.join(dir, f.path);
    let got: string;
    try {
      got = sha256File(p);
    } catch (e) {
      throw new TezipError('TEZ_TRUNCATED', `${where}: ${f.path} is missing (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (got !== f.sha256) throw new TezipError('TEZ_CHECKSUM', `${where}: sha256 of ${f.path} is ${got}, the manifest says ${f.sha256}`);
  }
}

export interface InstallOptions {
  name?: string;
  version?: string;
  /** Replace an installed NAME@VERSION whose content differs. */
  force?: boolean;
  home?: string;
}

/** Verifies a trained model folder and installs it; returns the registry entry. */
export function installModel(src: string, o: InstallOptions = {}): ModelEntry & { dir: string; alreadyInstalled: boolean } {
  const home = o.home ?? tezipHome();
  const { text, m, file } = readManifest(src);
  const name = o.name ?? (typeof m.name === 'string' ? m.name : path.basename(path.resolve(src)));
  const version = o.version ?? (typeof m.version === 'string' || typeof m.version === 'number' ? String(m.version) : '1');
  if (!NAME_RE.test(name)) throw new TypeError(`expected a model name of letters, digits, . _ - but received ${JSON.stringify(name)}`);
  if (!NAME_RE.test(version)) throw new TypeError(`expected a version of letters, digits, . _ - but received ${JSON.stringify(version)}`);
  const files = manifestFiles(m, file);
  verifyFiles(src, files, file);
  const sha256 = crypto.createHash('sha256').update(text).digest('hex');

  const models = readRegistry(home);
  const existing = models.find((e) => e.name === name && e.version === version);
  const dir = path.join(modelsDir(home), name, version);
  if (existing && existing.sha256 === sha256 && fs.existsSync(path.join(dir, 'manifest.json')))
    return { ...existing, dir, alreadyInstalled: true };
  if (existing && !o.force)
    throw Object.assign(new Error(`${name}@${version} is already installed with different content (sha256 ${existing.sha256.slice(0, 12)}…); give a new --version or pass --force`), {
      code: 'EEXIST',
    });

  // Copy into a staging folder, check the copy, then move it into place: a half-copied model is never listed.
  const stage = path.join(modelsDir(home), `.install-${process.pid}-${Date.now()}`);
  fs.mkdirSync(stage, { recursive: true });
  try {
    fs.writeFileSync(path.join(stage, 'manifest.json'), text);
    for (const f of files) {
      const to = path.join(stage, f.path);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(path.join(src, f.path), to);
    }
    verifyFiles(stage, files, `copy of ${file}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(stage, dir);
  } catch (e) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw e;
  }
  const entry: ModelEntry = { name, version, sha256, installedAt: new Date().toISOString(), source: path.resolve(src) };
  writeRegistry(home, [...models.filter((e) => !(e.name === name && e.version === version)), entry]);
  return { ...entry, dir, alreadyInstalled: false };
}

export function listModels(home = tezipHome()): ModelEntry[] {
  return readRegistry(home).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareVersions(a.version, b.version)));
}

/** Finds an installed model by "NAME" (highest version) or "NAME@VERSION" and re-checks its files. */
export function resolveModel(spec: string, home = tezipHome()): ResolvedModel {
  if (typeof spec !== 'string') throw new TypeError('expected a model name (NAME or NAME@VERSION)');
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : undefined;
  if (!NAME_RE.test(name) || (version !== undefined && !NAME_RE.test(version)))
    throw new TypeError(`expected a model as NAME or NAME@VERSION but received ${JSON.stringify(spec)}`);
  const all = readRegistry(home).filter((e) => e.name === name);
  const pick = version !== undefined ? all.find((e) => e.version === version) : all.sort((a, b) => compareVersions(b.version, a.version))[0];
  if (!pick) {
    const have = all.map((e) => e.version).sort(compareVersions).join(', ');
    throw Object.assign(
      new Error(
        version !== undefined && have
          ? `model ${name}@${version} is not installed (installed versions: ${have})`
          : `model ${JSON.stringify(name)} is not installed (tezip model install PATH; tezip model list shows what is)`,
      ),
      { code: 'ENOMODEL' },
    );
  }
  const dir = path.join(modelsDir(home), pick.name, pick.version);
  const { text, m, file } = readManifest(dir);
  const sha = crypto.createHash('sha256').update(text).digest('hex');
  if (sha !== pick.sha256) throw new TezipError('TEZ_CHECKSUM', `${file} changed after installation (sha256 ${sha}, registered ${pick.sha256})`);
  verifyFiles(dir, manifestFiles(m, file), file);
  return { ...pick, dir, manifest: m };
}

/**
 * What a `--model` argument names: a model folder when it is a path to one (it holds manifest.json), else an
 * installed model NAME[@VERSION], resolved and re-checked through the registry.
 */
export function modelFolderFor(spec: string, home = tezipHome()): string {
  if (typeof spec !== 'string' || spec === '') throw new TypeError('expected a model folder or NAME[@VERSION]');
  if (fs.existsSync(path.join(spec, 'manifest.json'))) return spec;
  if (spec.includes('/') || spec.includes(path.sep)) return spec; // a path: the loader reports what is wrong with it
  return resolveModel(spec, home).dir;
}
