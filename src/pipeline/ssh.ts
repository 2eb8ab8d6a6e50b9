// SSH connections for sftp:// targets, through the `ssh2` package: key authentication only (an identity file or
// ssh-agent), the server's host key checked against known_hosts before anything is sent. Messages name files
// and fingerprints, never key material or passphrases.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { HostKeyError, blobType, checkHostKey, keysForHost, readKnownHosts } from './known-hosts';

export interface SshOptions {
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Private key file; default: ssh-agent when SSH_AUTH_SOCK is set, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identity?: string;
  /** Passphrase of the identity file (the CLI takes it from TEZIP_SSH_PASSPHRASE). Never logged. */
  passphrase?: string;
  /** Seconds to wait for the connection and handshake (default 20). */
  timeoutSeconds?: number;
}

export interface SshEndpoint {
  user: string;
  host: string;
  port: number;
}

/** Errors that retrying cannot fix: wrong host key, no usable key, refused login. */
export class SshSetupError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SshSetupError';
    this.code = code;
  }
}

export function defaultKnownHosts(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

type Ssh2 = typeof import('ssh2');
let ssh2Module: Ssh2 | undefined;
function ssh2(): Ssh2 {
  // Loaded only when an sftp:// target is used, so local targets and the rest of the CLI never pay for it.
  ssh2Module ??= require('ssh2') as Ssh2;
  return ssh2Module;
}

interface Auth {
  privateKey?: Buffer;
  passphrase?: string;
  agent?: string;
  what: string;
}

function resolveAuth(o: SshOptions): Auth {
  const loadKey = (file: string): Auth => {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw new SshSetupError('IDENTITY_UNREADABLE', `cannot read identity file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (data.length > 1 << 20) throw new SshSetupError('IDENTITY_BAD', `identity file ${file} is too large to be a private key`);
    // Parse here to report a plain reason; ssh2's messages describe the problem, never the key.
    const parsed = ssh2().utils.parseKey(data, o.passphrase);
    if (parsed instanceof Error) {
      const encrypted = /encrypted|passphrase/i.test(parsed.message);
      throw new SshSetupError(
        'IDENTITY_BAD',
        encrypted
          ? `identity file ${file} is encrypted and ${o.passphrase === undefined ? 'no passphrase was given (set TEZIP_SSH_PASSPHRASE or use ssh-agent)' : 'the passphrase does not open it'}`
          : `identity file ${file} is not a usable private key`,
      );
    }
    return { privateKey: data, passphrase: o.passphrase, what: `key ${file}` };
  };
  if (o.identity !== undefined) return loadKey(o.identity);
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK, what: 'ssh-agent' };
  for (const n of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const f = path.join(os.homedir(), '.ssh', n);
    if (fs.existsSync(f)) return loadKey(f);
  }
  throw new SshSetupError('NO_IDENTITY', 'no SSH key found: pass --identity FILE, or run ssh-agent (SSH_AUTH_SOCK)');
}

/** Opens an authenticated connection whose host key matched known_hosts. */
export function connect(ep: SshEndpoint, o: SshOptions = {}): Promise<Client> {
  const knownFile = o.knownHosts ?? defaultKnownHosts();
  const known = keysForHost(readKnownHosts(knownFile), ep.host, ep.port);
  const auth = resolveAuth(o);
  const { Client } = ssh2();
  return new Promise((resolve, reject) => {
    const c = new Client();
    let refusal: HostKeyError | undefined;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      if (err) {
        c.end();
        reject(err);
      } else resolve(c);
    };
    c.on('ready', () => done());
    c.on('error', (e: Error & { level?: string }) => {
      if (refusal) return done(refusal);
      if (e.level === 'client-authentication')
        return done(new SshSetupError('AUTH_FAILED', `${ep.user}@${ep.host}:${ep.port} refused the login with ${auth.what}`));
      const code = (e as NodeJS.ErrnoException).code;
      const why = code ?? e.message;
      done(Object.assign(new Error(`cannot connect to ${ep.host}:${ep.port}: ${why}`), { code: code ?? 'ESSH' }));
    });
    c.on('close', () => done(refusal ?? Object.assign(new Error(`connection to ${ep.host}:${ep.port} closed during setup`), { code: 'ECONNRESET' })));
    const cfg: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      username: ep.user,
      readyTimeout: (o.timeoutSeconds ?? 20) * 1000,
      keepaliveInterval: 15000,
      keepaliveCountMax: 4,
      hostVerifier: (key: Buffer) => {
        try {
          checkHostKey(known, key, ep.host, ep.port, knownFile);
          return true;
        } catch (e) {
          refusal = e as HostKeyError;
          return false;
        }
      },
      ...(auth.privateKey ? { privateKey: auth.privateKey, passphrase: auth.passphrase } : { agent: auth.agent }),
    };
    // Ask for the key types known_hosts has for this host first, as OpenSSH does, so that a server with several
    // host keys shows us one we can check.
    const types = [...new Set(known.filter((k) => !k.revoked).map((k) => blobType(k.blob)))];
    if (types.length > 0) {
      const preferred = types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
      cfg.algorithms = { serverHostKey: { prepend: preferred } as never };
    }
    try {
      c.connect(cfg);
    } catch (e) {
      done(new SshSetupError('SSH_CONFIG', `cannot connect to ${ep.host}:${ep.port}: ${(e as Error).message}`));
    }
  });
}

export function openSftp(c: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
}

/** Runs a command over an exec channel; stdout is capped so a hostile server cannot fill memory. */
export function execCapture(c: Client, command: string, maxBytes = 1 << 20): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err: Error | undefined, ch: ClientChannel) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let n = 0;
      ch.on('data', (d: Buffer) => {
        n += d.length;
        if (n <= maxBytes) chunks.push(d);
      });
      ch.stderr.on('data', () => {});
      ch.on('close', (code: number | null) => {
        if (n > maxBytes) return reject(new Error(`remote command printed more than ${maxBytes} bytes`));
        resolve({ code: code ?? null, stdout: Buffer.concat(chunks).toString('utf8') });
      });
    });
  });
}

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  if (s.includes('\0') || s.includes('\n')) throw new TypeError('a remote path contains a NUL or newline character');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
