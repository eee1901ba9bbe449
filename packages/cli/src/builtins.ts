import { createRequire } from 'node:module';

// Built-in modules that only some commands need are loaded on first use: node:crypto took
// about 2 ms to load, a twentieth of a clean scan's start-up, and only sharding and output
// files need it. Through require rather than `import()`: the command runs as a script
// compiled by `vm.Script`, where a dynamic import fails (no import callback is given).
const requireBuiltin = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;

/** Node's crypto module, loaded the first time it is asked for. */
export function nodeCrypto(): typeof import('node:crypto') {
  crypto ??= requireBuiltin('node:crypto') as typeof import('node:crypto');
  return crypto;
}

/** Node's `readline/promises`, loaded when a prompt first asks for it. */
export function nodeReadline(): typeof import('node:readline/promises') {
  return requireBuiltin('node:readline/promises') as typeof import('node:readline/promises');
}
