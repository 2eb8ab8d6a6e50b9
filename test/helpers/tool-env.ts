// The environment for system programs that tests start (sshd, ssh-keygen, pgrep...). Under
// `npm run test:sanitize` node runs with the ASan/UBSan runtimes in LD_PRELOAD (scripts/sanitize.sh); they are
// meant for node and the sanitized addon only. Preloaded into other programs they change what runs and can
// hang it: procps' pgrep and ps never return with libasan preloaded, and a test blocked in spawnSync stops
// the event loop, so not even mocha's timeout can fire. Node children (the tezip CLI) keep the full
// environment, so that they load the sanitized addon and are checked too.
const SANITIZER_RUNTIME = /(^|\/)lib(asan|ubsan|lsan|tsan|hwasan)[^/]*\.so/;

export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  const keep = (out.LD_PRELOAD ?? '')
    .split(/[\s:]+/)
    .filter((p) => p !== '' && !SANITIZER_RUNTIME.test(p));
  if (keep.length > 0) out.LD_PRELOAD = keep.join(' ');
  else delete out.LD_PRELOAD;
  return out;
}

/** Milliseconds a quick system tool (ssh-keygen, pgrep) may take before the test fails instead of waiting forever. */
export const TOOL_TIMEOUT_MS = 30000;
