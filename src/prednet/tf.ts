// TensorFlow.js, loaded only when PredNet training or the tfjs cross-check runs (the CLI and the codec never
// load it). Backends in order of preference: @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (neither is a
// declared dependency: their install downloads libtensorflow, which fails offline; `npm install
// @tensorflow/tfjs-node` where it works and tezip picks it up), then @tensorflow/tfjs on the wasm backend,
// then the pure-JS cpu backend.
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | 'node' | 'wasm' | 'cpu';

export interface TfEnv {
  tf: Tf;
  backend: BackendName;
  /** The backend has no Conv2DBackpropFilter/Input kernels: use forward-convolution gradients. */
  convGradAsForward: boolean;
  /** What was tried and why it was not used (for --verbose and error messages). */
  notes: string[];
}

let cached: Promise<TfEnv> | undefined;
let cachedChoice: BackendChoice | undefined;

function tryRequire(name: string, notes: string[]): unknown {
  try {
    return require(name);
  } catch (e) {
    // Any failure counts, not only MODULE_NOT_FOUND: a native binding that fails to load throws other errors.
    notes.push(`${name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return undefined;
  }
}

async function load(choice: BackendChoice): Promise<TfEnv> {
  const notes: string[] = [];
  if (choice === 'auto' || choice === 'node') {
    for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const m = tryRequire(name, notes) as Tf | undefined;
      if (m && typeof m.setBackend === 'function') {
        if (await m.setBackend('tensorflow')) {
          await m.ready();
          return { tf: m, backend: 'tensorflow', convGradAsForward: false, notes };
        }
        notes.push(`${name}: setBackend('tensorflow') failed`);
      }
    }
    if (choice === 'node') throw new Error(`tfjs-node is not usable here (${notes.join('; ')})`);
  }
  const tf = require('@tensorflow/tfjs') as Tf;
  // tfjs logs a hint about tfjs-node on first use; it is noise for a CLI.
  tf.env().set('PROD', true);
  if (choice === 'auto' || choice === 'wasm') {
    const wasm = tryRequire('@tensorflow/tfjs-backend-wasm', notes);
    if (wasm) {
      let ok = false;
      try {
        ok = await tf.setBackend('wasm'); // resolves false (and keeps the old backend) when wasm fails to start
      } catch (e) {
        notes.push(`wasm: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (ok && tf.getBackend() === 'wasm') {
        await tf.ready();
        return { tf, backend: 'wasm', convGradAsForward: true, notes };
      }
      notes.push('wasm: setBackend returned false');
    }
    if (choice === 'wasm') throw new Error(`the tfjs wasm backend is not usable here (${notes.join('; ')})`);
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('no TensorFlow.js backend could start');
  await tf.ready();
  return { tf, backend: 'cpu', convGradAsForward: false, notes };
}

/** Loads TensorFlow.js once per process; later calls return the same backend. */
export function loadTf(choice: BackendChoice = 'auto'): Promise<TfEnv> {
  const env = process.env.TEZIP_TF_BACKEND;
  if (choice === 'auto' && (env === 'node' || env === 'wasm' || env === 'cpu')) choice = env;
  if (cached && cachedChoice !== choice && choice !== 'auto') {
    return cached.then((e) => {
      if (e.backend !== (choice === 'node' ? 'tensorflow' : choice))
        throw new Error(`TensorFlow.js already runs on ${e.backend} in this process`);
      return e;
    });
  }
  if (!cached) {
    cachedChoice = choice;
    cached = load(choice);
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}
