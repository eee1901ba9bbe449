import type { Command } from '../io.js';

// One line per command; keep the list sorted as `pubguard --help` shows it.
export const commands: Command[] = [];
