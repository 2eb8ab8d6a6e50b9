// tezip's own folder for state that outlives a run: transfer journals, the model registry.
import * as os from 'node:os';
import * as path from 'node:path';

/** $TEZIP_HOME, or ~/.tezip. */
export function tezipHome(): string {
  const env = process.env.TEZIP_HOME;
  return env && env !== '' ? path.resolve(env) : path.join(os.homedir(), '.tezip');
}
