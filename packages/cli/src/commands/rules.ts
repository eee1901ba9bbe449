import { builtinRuleDefinitions, checkRules, type RuleDefinition } from '@pubguard/rules';
import { parseStrict } from '../args.js';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';

const LIST_HELP = `Usage: pubguard rules list [--format text|json]

Lists the built-in rules: id, severity and title.

Options:
  -f, --format FMT   text (default) or json (an array of {id, title, severity, confidence,
                     description, keywords, references, and paths for path rules})
  -h, --help         show this help

Exit codes: 0 listed, 2 usage error.
`;

const CHECK_HELP = `Usage: pubguard rules check [--format text|json]

Lints the built-in rules: every pattern compiles and is bounded, ids are unique, each rule
has at least two examples and two negative examples and a reference, every example is
reported (with a valid checksum where the format has one) and no negative example is.

Options:
  -f, --format FMT   text (default) or json (an array of {ruleId, message})
  -h, --help         show this help

Exit codes: 0 no problems, 1 problems found, 2 usage error.
`;

function parseFormat(argv: string[]): 'text' | 'json' {
  const parsed = parseStrict({ args: argv, options: { format: { type: 'string', short: 'f', default: 'text' } }, allowPositionals: false });
  const format = parsed.values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown format '${format}' (use text or json)`);
  return format;
}

function listRules(defs: RuleDefinition[], format: 'text' | 'json', io: CliIO): void {
  if (format === 'json') {
    const rows = defs.map((d) => ({
      id: d.id,
      title: d.title,
      severity: d.severity,
      confidence: d.confidence ?? 'medium',
      description: d.description ?? '',
      keywords: d.keywords,
      references: d.references ?? [],
      ...(d.paths ? { paths: d.paths } : {}),
    }));
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const idWidth = Math.max(...defs.map((d) => d.id.length), 2);
  const lines = defs.map((d) => `${d.id.padEnd(idWidth)}  ${d.severity.padEnd(8)}  ${d.title}`);
  io.stdout.write(`${['ID'.padEnd(idWidth), 'SEVERITY', 'TITLE'].join('  ')}\n${lines.join('\n')}\n${defs.length} rules\n`);
}

/** `pubguard rules list`: the built-in rules. */
export const rulesListCommand: Command = {
  name: 'rules list',
  help: LIST_HELP,
  async run(argv: string[], io: CliIO): Promise<CliResult> {
    const format = parseFormat(argv);
    listRules(builtinRuleDefinitions(), format, io);
    return { exitCode: 0 };
  },
};

/** `pubguard rules check`: lints the built-in rules; exit 1 when any rule has a problem. */
export const rulesCheckCommand: Command = {
  name: 'rules check',
  help: CHECK_HELP,
  async run(argv: string[], io: CliIO): Promise<CliResult> {
    const format = parseFormat(argv);
    const defs = builtinRuleDefinitions();
    const problems = checkRules(defs);
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(problems, null, 2)}\n`);
    } else if (problems.length === 0) {
      io.stdout.write(`rules check: ${defs.length} rules, no problems\n`);
    } else {
      for (const p of problems) io.stdout.write(`${p.ruleId ?? '(rule set)'}: ${p.message}\n`);
      io.stdout.write(`rules check: ${problems.length} problem(s) in ${new Set(problems.map((p) => p.ruleId)).size} of ${defs.length} rules\n`);
    }
    return { exitCode: problems.length === 0 ? 0 : 1 };
  },
};
