import { createRequire } from 'node:module';

// Loading node:crypto takes about 2 ms, a twentieth of a clean scan's start-up; only sharding
// and output files need it, so it is loaded on first use.
const requireBuiltin = createRequire(import.meta.url);
let loaded: typeof import('node:crypto') | undefined;

/** Node's crypto module, loaded the first time it is asked for. */
export function nodeCrypto(): typeof import('node:crypto') {
  loaded ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  return loaded;
}
