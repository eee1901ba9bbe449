import { type CommandEntry, commands } from './commands/index.js';
import { type CliIO, type CliResult, type Command, UsageError } from './io.js';
import { closest } from './suggest.js';
import { VERSION } from './version.js';

/** Top-level help text listing every command. */
export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'pubguard — find secrets in package artifacts before they ship, and gate the release.',
    '',
    'Usage: pubguard <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Options:',
    '  -h, --help     show help (also after a command: pubguard scan --help)',
    '  -V, --version  print the version',
    '',
    'Exit codes: 0 clean, 1 findings or a refused release, 2 usage or fatal error (also a command',
    'stopped by a signal); 128 + N when a second signal N ends it at once (130 for Ctrl-C).',
    '',
  ].join('\n');
}

function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  // Longest match first, so `approvals verify` wins over a hypothetical `approvals`.
  const candidates = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  for (const command of candidates) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { entry: command, rest: argv.slice(words.length) };
  }
  return undefined;
}

/** Runs `pubguard` with the given arguments (without the program name); never throws. */
export async function run(argv: string[], io: CliIO): Promise<CliResult> {
  const first = argv[0];
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(mainHelp());
    return { exitCode: first === undefined ? 2 : 0 };
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`pubguard ${VERSION}\n`);
    return { exitCode: 0 };
  }
  const found = findCommand(argv);
  if (!found) {
    const prefix = commands.filter((c) => c.name.startsWith(`${first} `));
    // `pubguard rules --help`: the group's commands, as the main help lists them.
    if (prefix.length > 0 && (argv[1] === '-h' || argv[1] === '--help')) {
      const width = Math.max(...prefix.map((c) => c.name.length));
      const lines = prefix.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
      io.stdout.write(`Usage: pubguard ${first} <${prefix.map((c) => c.name.slice(first.length + 1)).join('|')}> [options]\n\n${lines.join('\n')}\n\nEach has its own help: \`pubguard ${prefix[0]!.name} --help\`.\n`);
      return { exitCode: 0 };
    }
    // Only a known first word (`version chek`) makes a second word part of the command's name.
    const second = prefix.length > 0 && argv[1] !== undefined && !argv[1].startsWith('-') ? argv[1] : undefined;
    const given = second === undefined ? first : `${first} ${second}`;
    const near =
      prefix.length > 0
        ? closest(second ?? '', prefix.map((c) => c.name.slice(first.length + 1))).map((word) => `${first} ${word}`)
        : closest(first, commands.map((c) => c.name.split(' ')[0] ?? ''));
    const named = (near.length > 0 ? near : prefix.map((c) => c.name)).map((name) => `pubguard ${name}`);
    const hint = named.length > 0 ? `Did you mean ${named.length === 1 ? named[0] : `one of: ${named.join(', ')}`}?` : 'Run `pubguard --help` for the list of commands.';
    io.stderr.write(`pubguard: unknown command '${given}'. ${hint}\n`);
    return { exitCode: 2 };
  }
  const { entry, rest } = found;
  const command = await entry.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
    return { exitCode: 0 };
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return await reportFatal(error, command, io);
  }
}

async function reportFatal(error: unknown, command: Command, io: CliIO): Promise<CliResult> {
  // A URL's user information (a registry given as https://TOKEN@host/) or a token-shaped value
  // must not be echoed. Loaded here, not at the top, so a run that fails nothing does not pay
  // for loading the release stages.
  const { redactText } = await import('@pubguard/release');
  const maskCredentials = (text: string): string => redactText(text);
  if (error instanceof UsageError) {
    io.stderr.write(`pubguard ${command.name}: ${maskCredentials(error.message)}\nRun \`pubguard ${command.name} --help\` for usage.\n`);
    return { exitCode: 2 };
  }
  // Typed errors from our packages carry messages meant for users; anything else is a bug,
  // still reported in one line so no stack trace reaches a release log.
  const message = maskCredentials(error instanceof Error ? error.message : String(error));
  const name = error instanceof Error ? error.name : 'Error';
  const known = name !== 'Error' && name !== 'TypeError' && name !== 'RangeError';
  io.stderr.write(
    known
      ? `pubguard ${command.name}: ${message}\n`
      : `pubguard ${command.name}: internal error: ${message}\n(set PUBGUARD_DEBUG=1 for details)\n`,
  );
  if (io.env.PUBGUARD_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return { exitCode: 2 };
}
