// Where `tezip send` / `tezip watch` deliver: a local folder or `sftp://user@host[:port]/dir`.
import * as os from 'node:os';
import * as path from 'node:path';

export type Target =
  | { kind: 'local'; dir: string; label: string }
  | { kind: 'sftp'; user: string; host: string; port: number; dir: string; label: string };

/**
 * Parses a target. sftp URLs follow curl: the path is absolute (`sftp://h/data` is /data) and `/~/x` is `x` in
 * the login folder. No password may be given in the URL: only keys are used, and a URL ends up in logs.
 */
export function parseTarget(spec: string): Target {
  if (typeof spec !== 'string' || spec === '') throw new TypeError('expected a target (DIR or sftp://user@host[:port]/dir)');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    let u: URL;
    try {
      u = new URL(spec);
    } catch {
      throw new TypeError(`expected a target like sftp://user@host[:port]/dir but received ${JSON.stringify(spec)}`);
    }
    if (u.protocol !== 'sftp:') throw new TypeError(`unsupported target scheme ${JSON.stringify(u.protocol.slice(0, -1))} (expected sftp:// or a local folder)`);
    if (u.password !== '') throw new TypeError('a password in the target URL is not accepted (tezip uses key authentication only; passwords in URLs end up in logs)');
    if (u.search !== '' || u.hash !== '') throw new TypeError('unexpected ?query or #fragment in the target URL');
    const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host === '') throw new TypeError('missing host in the target URL');
    const port = u.port === '' ? 22 : Number(u.port);
    const user = u.username !== '' ? decodeURIComponent(u.username) : os.userInfo().username;
    let dir = decodeURIComponent(u.pathname);
    if (dir.includes('\0') || dir.includes('\n')) throw new TypeError('the target path contains a NUL or newline character');
    if (dir.startsWith('/~/')) dir = dir.slice(3) || '.';
    else if (dir === '/~' || dir === '') dir = dir === '' ? '/' : '.';
    dir = path.posix.normalize(dir);
    if (dir.length > 1 && dir.endsWith('/')) dir = dir.slice(0, -1);
    const label = `sftp://${user}@${u.host}${dir.startsWith('/') ? '' : '/~/'}${dir === '.' ? '' : dir}`;
    return { kind: 'sftp', user, host, port, dir, label };
  }
  const dir = path.resolve(spec);
  return { kind: 'local', dir, label: dir };
}

/** A destination file name taken from a source path: its last component only, so nothing lands outside dir. */
export function destName(source: string): string {
  const base = path.basename(source);
  if (base === '' || base === '.' || base === '..' || base.includes('\0') || base.includes('\n') || base.includes('/'))
    throw new TypeError(`cannot derive a destination name from ${JSON.stringify(source)}`);
  return base;
}
