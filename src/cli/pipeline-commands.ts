// Command table entries of the pipeline commands (send, watch, dataset, model). Kept apart from commands.ts so
// that the codec commands and these can grow without stepping on each other; free of heavy imports too.
import type { OptionSpec } from './args.js';
import type { CommandDef } from './commands.js';

const help: OptionSpec = { name: 'help', short: 'h', type: 'flag', help: 'show this help' };

/** Options of the verified transfer, shared by send and watch. */
const TRANSFER: readonly OptionSpec[] = [
  { name: 'to', type: 'string', arg: 'TARGET', help: 'destination: a folder, or sftp://user@host[:port]/dir (absolute; /~/dir is in the login folder)' },
  { name: 'parallel', short: 'j', type: 'number', arg: 'N', help: 'parallel streams (SSH connections), 1-64 (default 4)' },
  { name: 'part-size', type: 'number', arg: 'MIB', help: 'size of the parts files are cut into, in MiB (default 8)' },
  { name: 'retries', type: 'number', arg: 'N', help: 'retries of a failed step, with exponential backoff from 0.5 s (default 5)' },
  { name: 'limit-rate', type: 'number', arg: 'MBPS', help: 'cap the total rate at MBPS megabytes per second' },
  { name: 'state', type: 'string', arg: 'DIR', help: 'folder of the resume journals (default $TEZIP_HOME/transfers; watch: DIR/.tezip-watch)' },
  { name: 'verify', type: 'string', arg: 'HOW', choices: ['auto', 'exec', 'readback'], help: 'sftp hashing: exec = sha256sum on the server, readback = read back and hash here, auto = exec when allowed (default)' },
  { name: 'reverify', type: 'flag', help: 'hash files the journal says are complete again, and repair them if they differ' },
  { name: 'known-hosts', type: 'string', arg: 'PATH', help: 'known_hosts file that must hold the server key (default ~/.ssh/known_hosts)' },
  { name: 'identity', short: 'i', type: 'string', arg: 'KEY', help: 'private key file (default: ssh-agent, else ~/.ssh/id_ed25519|id_ecdsa|id_rsa); passphrase from TEZIP_SSH_PASSPHRASE' },
  { name: 'connect-timeout', type: 'number', arg: 'S', help: 'seconds to wait for a connection (default 20)' },
  { name: 'quiet', short: 'q', type: 'flag', help: 'no progress bar, no retry messages' },
];

const BOUNDS: readonly OptionSpec[] = [
  { name: 'abs', type: 'number', arg: 'E', help: 'absolute bound for the chunks (default lossless)' },
  { name: 'rel', type: 'number', arg: 'E', help: 'relative bound for the chunks' },
  { name: 'pwrel', type: 'number', arg: 'E', help: 'point-wise relative bound for the chunks' },
  { name: 'predictor', type: 'string', arg: 'P', choices: ['auto', 'none', 'prev', 'lorenzo2d', 'lorenzo3d'], help: 'predictor (default auto)' },
];

export const PIPELINE_COMMANDS: readonly CommandDef[] = [
  {
    name: 'send',
    usage: 'tezip send FILE... --to sftp://user@host[:port]/dir|DIR [options]',
    summary:
      'send files in parallel parts, resumable, each verified by sha256 at the destination before it is renamed into place',
    options: [...TRANSFER, { name: 'json', type: 'flag', help: 'print one JSON object with the counters' }, help],
    examples: [
      'tezip send run42/*.tez --to sftp://me@hpc.example.org/scratch/run42 --parallel 4',
      'tezip send big.tez --to /mnt/archive/run42',
    ],
    load: () => require('./send.js'),
  },
  {
    name: 'watch',
    usage: 'tezip watch DIR --to TARGET [options]',
    summary: 'compress frames landing in DIR into chunks and send them (resumable; deletes sources only when asked and verified)',
    options: [
      ...TRANSFER,
      { name: 'chunk-frames', type: 'number', arg: 'N', help: 'frames per .tez file (default 16)' },
      { name: 'settle-ms', type: 'number', arg: 'MS', help: 'a file counts as complete when its size and mtime held still this long (default 2000; 0 = files are renamed into place)' },
      { name: 'interval-ms', type: 'number', arg: 'MS', help: 'pause between scans (default 1000)' },
      { name: 'max-wait-ms', type: 'number', arg: 'MS', help: 'send a partial chunk when its oldest frame waited this long (default 30000)' },
      { name: 'once', type: 'flag', help: 'one pass: take what is complete now, send it all, exit' },
      { name: 'idle-exit', type: 'number', arg: 'S', help: 'exit after S seconds without new files' },
      { name: 'max-runtime', type: 'number', arg: 'S', help: 'exit after S seconds (finishing the chunk in hand)' },
      { name: 'delete-after-verify', type: 'flag', help: 'delete source files once the chunk holding them was verified at the destination' },
      { name: 'prefix', type: 'string', arg: 'NAME', help: 'chunk files are NAME-000001.tez... (default: the folder name)' },
      ...BOUNDS,
      help,
    ],
    examples: ['tezip watch /data/detector --to sftp://me@hpc.example.org/scratch/run42 --delete-after-verify'],
    load: () => require('./watch.js'),
  },
  {
    name: 'dataset',
    usage: 'tezip dataset export INPUT... -o DIR --nt N [--val F] [options]',
    summary: 'export training sequences as verified .tez shards plus manifest.json, for tezip train',
    options: [
      { name: 'output', short: 'o', type: 'string', arg: 'DIR', help: 'output folder' },
      { name: 'nt', type: 'number', arg: 'N', help: 'frames per training sequence' },
      { name: 'val', type: 'number', arg: 'F', help: 'fraction of sequences for validation, 0 ≤ F < 1 (default 0.1)' },
      { name: 'stride', type: 'number', arg: 'N', help: 'frames between sequence starts (default nt: no overlap)' },
      { name: 'seed', type: 'number', arg: 'S', help: 'seed of the train/val shuffle (default 1)' },
      { name: 'normalize', type: 'string', arg: 'HOW', choices: ['minmax', 'dtype', 'none'], help: 'to [0,1] by the data range (minmax, default), the integer type range (dtype), or none' },
      { name: 'shard-sequences', type: 'number', arg: 'K', help: 'sequences per shard (default: about 64 MiB of frames)' },
      { name: 'force', type: 'flag', help: 'replace a dataset already in DIR' },
      { name: 'json', type: 'flag', help: 'print the manifest summary as JSON' },
      help,
    ],
    examples: ['tezip dataset export samples/bulk_water_small.raw -o /tmp/water-ds --nt 8 --val 0.2'],
    load: () => require('./dataset.js'),
  },
  {
    name: 'model',
    usage: 'tezip model install PATH [--name N] [--version V] | tezip model list [--json]',
    summary: 'install a trained model (sha256 of every file checked) into the local registry, or list it',
    options: [
      { name: 'name', type: 'string', arg: 'NAME', help: 'install under this name (default: the manifest name or folder name)' },
      { name: 'version', type: 'string', arg: 'V', help: 'install as this version (default: the manifest version or 1)' },
      { name: 'force', type: 'flag', help: 'replace an installed NAME@VERSION with different content' },
      { name: 'json', type: 'flag', help: 'print JSON' },
      help,
    ],
    examples: ['tezip model install runs/water-prednet', 'tezip model list'],
    load: () => require('./model.js'),
  },
];
