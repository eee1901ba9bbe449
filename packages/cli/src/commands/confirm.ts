import { type CliResult, type Command, UsageError } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { gateHelp, GATE_OPTIONS, actorOf, outputFormat, recordGate, writeJson } from './audit.js';

const HELP = `Usage: pubguard confirm --phrase PHRASE [--input VALUE] [options]

A typed confirmation: passes only when the input equals PHRASE exactly (case, spaces and
all). Meant for a workflow_dispatch input, handed over in an environment variable
(env: CONFIRM: \${{ inputs.confirm }}, then --input "$CONFIRM"): an input written as
\${{ }} inside run: becomes part of the script, and can run commands of its own. Without
--input it asks on the terminal; without a terminal and without --input it fails.
The input itself is never printed or written to the audit log.

Options:
      --phrase PHRASE    what must be typed, e.g. release or the package name
      --input VALUE      the value typed (may be empty)
${gateHelp(25)}

Exit codes: 0 confirmed, 1 input differs, 2 usage error or no input and no terminal.

Example:
  pubguard confirm --phrase "release mypkg" --input "$CONFIRM"
`;

/** `pubguard confirm`. */
export const confirmCommand: Command = {
  name: 'confirm',
  help: HELP,
  async run(argv, io): Promise<CliResult> {
    const { values, positionals } = parseCommandArgs(argv, {
      ...GATE_OPTIONS,
      phrase: { type: 'string' },
      input: { type: 'string' },
    });
    const format = outputFormat(values.format);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const phrase = values.phrase;
    if (phrase === undefined || phrase === '') throw new UsageError('--phrase is required and may not be empty');
    let input = values.input;
    if (input === undefined) {
      if (!io.prompt || !io.stdin.isTTY) {
        throw new UsageError('no --input given and no terminal to ask on; pass --input "$VALUE"');
      }
      input = await io.prompt(`Type "${phrase}" to confirm: `);
    }
    const ok = input === phrase;
    // Only the fact of a mismatch is recorded: a wrong input could be anything, a pasted token included.
    const reason = ok ? `typed the phrase "${phrase}"` : `input did not match the phrase "${phrase}"`;
    await recordGate(io, values, { stage: 'confirm', outcome: ok ? 'passed' : 'refused', actor: actorOf(io, values.actor), subjects: [], reason });
    if (format === 'json') writeJson(io, { version: 1, stage: 'confirm', ok, reason });
    else io.stdout.write(ok ? 'confirmed\n' : `refused: ${reason}\n`);
    return { exitCode: ok ? 0 : 1 };
  },
};
