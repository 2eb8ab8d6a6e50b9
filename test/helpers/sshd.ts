// A real OpenSSH server for the pipeline tests: started as a child process (`sshd -D -e -f CONFIG`) on a free
// loopback port, with a throw-away host key, client key, authorized_keys and known_hosts in a temp folder.
// No mock: what the tests talk to is the sshd that HPC centres run.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOOL_TIMEOUT_MS, toolEnv } from './tool-env';

export interface Sshd {
  host: string;
  port: number;
  user: string;
  /** Temp folder holding keys and config (and free for test data under data/). */
  dir: string;
  /** Private key the server accepts. */
  identity: string;
  /** known_hosts holding the server's key for [127.0.0.1]:port. */
  knownHosts: string;
  /** sftp://user@127.0.0.1:port + absolute dir */
  url(dir: string): string;
  /** SIGKILLs the server's per-connection processes (children of our listener): every session drops. */
  dropConnections(): number;
  stop(): Promise<void>;
}

const SSHD_CANDIDATES = ['/usr/sbin/sshd', '/usr/local/sbin/sshd', '/sbin/sshd'];

/** Why sshd cannot run here, or undefined when it can. */
export function sshdMissing(): string | undefined {
  if (!SSHD_CANDIDATES.some((p) => fs.existsSync(p))) return 'sshd is not installed (Debian package openssh-server; .ci/run installs it)';
  if (spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore', env: toolEnv(), timeout: TOOL_TIMEOUT_MS }).error) return 'ssh-keygen is not installed';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tezip-test', '-f', file], {
    encoding: 'utf8',
    env: toolEnv(),
    timeout: TOOL_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.error?.message ?? r.stderr}`);
}

/** Writes a known_hosts line for [host]:port with the public key in `pubFile`. */
export function knownHostsLine(host: string, port: number, pubFile: string): string {
  const [type, b64] = fs.readFileSync(pubFile, 'utf8').trim().split(/\s+/);
  return `[${host}]:${port} ${type} ${b64}\n`;
}

export function makeKeyPair(file: string): void {
  keygen(file);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

export interface SshdOptions {
  /** Extra sshd_config lines (e.g. "ForceCommand internal-sftp" to forbid exec). */
  extraConfig?: string[];
}

export async function startSshd(o: SshdOptions = {}): Promise<Sshd> {
  const sshd = SSHD_CANDIDATES.find((p) => fs.existsSync(p))!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tezip-sshd-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const identity = path.join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(identity);
  fs.copyFileSync(identity + '.pub', path.join(dir, 'authorized_keys'));
  fs.mkdirSync(path.join(dir, 'data'));
  // Privilege separation needs this folder when sshd runs as root (Debian creates it only via systemd).
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = os.userInfo().username;
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        'MaxStartups 64:30:128',
        'MaxSessions 64',
        'LogLevel ERROR',
        ...(o.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'], env: toolEnv() });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let exited = false;
    child.on('exit', () => (exited = true));
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 10000 && !(await canConnect(port))) await new Promise((r) => setTimeout(r, 50));
    if (exited || Date.now() - t0 >= 10000) {
      lastErr = stderr.trim() || 'sshd did not start';
      child.kill('SIGKILL');
      continue;
    }
    const knownHosts = path.join(dir, 'known_hosts');
    fs.writeFileSync(knownHosts, knownHostsLine('127.0.0.1', port, hostKey + '.pub'));
    return {
      host: '127.0.0.1',
      port,
      user,
      dir,
      identity,
      knownHosts,
      dropConnections: () => {
        // The whole tree under our listener: privilege-separated monitors and their session processes.
        const pids: number[] = [];
        const queue = [child.pid!];
        while (queue.length > 0) {
          const r = spawnSync('pgrep', ['-P', String(queue.shift())], { encoding: 'utf8', env: toolEnv(), timeout: TOOL_TIMEOUT_MS });
          if (r.error || r.signal) throw new Error(`pgrep failed: ${r.error?.message ?? r.signal}`);
          const kids = r.stdout.split('\n').filter((x) => /^\d+$/.test(x)).map(Number);
          pids.push(...kids);
          queue.push(...kids);
        }
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return pids.length;
      },
      url: (d: string) => `sftp://${user}@127.0.0.1:${port}${d.startsWith('/') ? '' : '/'}${d}`,
      stop: () =>
        new Promise<void>((resolve) => {
          if (exited) return resolve(fs.rmSync(dir, { recursive: true, force: true }));
          // sshd exits on SIGTERM at once; should it not, SIGKILL after 10 s rather than wait forever.
          const force = setTimeout(() => child.kill('SIGKILL'), 10000);
          child.once('exit', () => {
            clearTimeout(force);
            fs.rmSync(dir, { recursive: true, force: true });
            resolve();
          });
          child.kill('SIGTERM');
        }),
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd would not start: ${lastErr}`);
}
