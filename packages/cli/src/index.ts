export { run, mainHelp } from './run.js';
export { main, type MainOptions } from './bin.js';
export { type CliIO, type CliResult, type Command, type TextSink, InterruptedError, stopIfInterrupted, UsageError } from './io.js';
export { VERSION } from './version.js';
export { memoryIO } from './testing.js';
