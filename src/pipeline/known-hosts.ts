// Host key checking against an OpenSSH known_hosts file. A host we have no key for, or whose key differs from
// the recorded one, is refused: the user must check the fingerprint and add it (ssh-keyscan / ssh once); we
// never add or accept a key on our own ("trust on first use" would let a man in the middle in silently).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

export interface KnownKey {
  /** e.g. ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa */
  type: string;
  /** The public key blob (base64-decoded). */
  blob: Buffer;
  revoked: boolean;
  line: number;
}

export class HostKeyError extends Error {
  readonly code: 'HOSTKEY_UNKNOWN' | 'HOSTKEY_CHANGED' | 'HOSTKEY_REVOKED' | 'KNOWN_HOSTS_UNREADABLE';
  constructor(code: HostKeyError['code'], message: string) {
    super(message);
    this.name = 'HostKeyError';
    this.code = code;
  }
}

/** The name OpenSSH records: `host` on port 22, `[host]:port` otherwise. */
export function hostEntryName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint format: SHA256:<base64 without padding>. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + crypto.createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type written inside a key blob (its first SSH string). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return '?';
  const n = blob.readUInt32BE(0);
  if (n > 64 || 4 + n > blob.length) return '?';
  return blob.subarray(4, 4 + n).toString('latin1');
}

function globToRegExp(pattern: string): RegExp {
  const esc = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp('^' + esc + '$', 'i');
}

function hashedMatch(entry: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = crypto.createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

/** Whether a comma-separated host pattern list matches `name` (negations `!pat` veto the whole line). */
export function patternListMatches(list: string, name: string): boolean {
  if (list.startsWith('|')) return hashedMatch(list, name);
  let matched = false;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const pat = neg ? raw.slice(1) : raw;
    if (pat === '') continue;
    if (globToRegExp(pat).test(name)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

/** Parses known_hosts text and returns the keys recorded for host:port. Malformed lines are skipped, as ssh does. */
export function keysForHost(text: string, host: string, port: number): KnownKey[] {
  const name = hostEntryName(host, port);
  const out: KnownKey[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    let marker: string | undefined;
    if (f[0].startsWith('@')) marker = f.shift();
    if (f.length < 3) continue;
    if (marker !== undefined && marker !== '@revoked') continue; // @cert-authority: certificates are not supported
    const [hosts, type, b64] = f;
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    if (!patternListMatches(hosts, name)) continue;
    out.push({ type, blob: Buffer.from(b64, 'base64'), revoked: marker === '@revoked', line: i + 1 });
  }
  return out;
}

export function readKnownHosts(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new HostKeyError('KNOWN_HOSTS_UNREADABLE', `known_hosts file ${file} does not exist: no host key can be checked, so the connection is refused (create it, or pass --known-hosts PATH)`);
    throw new HostKeyError('KNOWN_HOSTS_UNREADABLE', `cannot read known_hosts file ${file}: ${code ?? (e as Error).message}`);
  }
}

/**
 * Decides about the key a server presented. Returns nothing when it is recorded for host:port; throws a
 * HostKeyError saying what to do otherwise.
 */
export function checkHostKey(keys: readonly KnownKey[], presented: Buffer, host: string, port: number, file: string): void {
  const name = hostEntryName(host, port);
  const fp = fingerprint(presented);
  const type = blobType(presented);
  if (keys.some((k) => k.revoked && k.blob.equals(presented)))
    throw new HostKeyError('HOSTKEY_REVOKED', `host key of ${name} (${type} ${fp}) is marked @revoked in ${file}: connection refused`);
  if (keys.some((k) => !k.revoked && k.blob.equals(presented))) return;
  const recorded = keys.filter((k) => !k.revoked);
  if (recorded.length === 0)
    throw new HostKeyError(
      'HOSTKEY_UNKNOWN',
      `unknown host key for ${name} (${type} ${fp}): not in ${file}; connection refused. Check the fingerprint with the server's administrator, then add it (e.g. ssh-keyscan -p ${port} ${host} >> ${file})`,
    );
  throw new HostKeyError(
    'HOSTKEY_CHANGED',
    `HOST KEY CHANGED for ${name}: the server presented ${type} ${fp}, but ${file} line ${recorded.map((k) => k.line).join(',')} records a different key; connection refused (someone may be intercepting the connection, or the host key was replaced)`,
  );
}
