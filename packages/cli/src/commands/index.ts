import type { Command } from '../io.js';
import { rulesCheckCommand, rulesListCommand } from './rules.js';

// One line per command; keep the list sorted as `pubguard --help` shows it.
export const commands: Command[] = [
  rulesListCommand,
  rulesCheckCommand,
];
