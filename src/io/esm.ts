// Loads an ES-module-only dependency (h5wasm, fast-png) from this CommonJS build. tsc would turn a plain
// `import()` into `require()`, which cannot load packages whose exports have only an "import" condition;
// a Function-built import() is left alone and resolves from this file's location.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

const cache = new Map<string, Promise<unknown>>();

export function importEsm<T>(specifier: string): Promise<T> {
  let p = cache.get(specifier);
  if (!p) {
    p = dynamicImport(specifier);
    cache.set(specifier, p);
  }
  return p as Promise<T>;
}
