// The CLI from packages/cli/dist/ instead of its bundle: the same code, but each function keeps
// its source file's URL, so a CPU profile can say which part of pubguard the time went to.
import { main } from '../../packages/cli/dist/bin.js';

main();
