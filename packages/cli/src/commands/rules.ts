import { relative } from 'node:path';
import { countOf, maskNames, STRUCTURE_RULES } from '@pubguard/engine';
import { checkRuleOverlaps, checkRules, compileRules, type RuleDefinition, RuleError, type RuleProblem } from '@pubguard/rules';
import { parseStrict } from '../args.js';
import { loadRulesConfig, type RulesConfig } from '../config.js';
import { type CliIO, type CliResult, type Command, UsageError } from '../io.js';

const CONFIG_OPTION = `  -c, --config FILE  settings file whose rules.disable and rules.custom apply (default: the
                     nearest pubguard.config.json in this directory or above, as for scan)`;

const LIST_HELP = `Usage: pubguard rules list [--config FILE] [--format text|json]

Lists the rules a scan runs: id, severity and title. Those are the built-in rules, less the
ones the settings file disables (rules.disable), then the archive-structure checks (path
traversal, links out, device files, setuid, conflicting duplicates), marked "(structure
check)": built in and always run, they cannot be disabled, only allowed per entry. Last come
the settings file's custom rules (rules.custom), marked "(custom)".

Options:
${CONFIG_OPTION}
  -f, --format FMT   text (default) or json (an array of {id, title, severity, confidence,
                     description, keywords, references, source ("builtin", "structure"
                     or "custom"), disableable (true for built-in rules only: a custom
                     rule is removed from rules.custom instead), and paths for path rules})
  -h, --help         show this help

Exit codes: 0 listed, 2 usage error or a settings file that cannot be used (as for scan).
`;

const CHECK_HELP = `Usage: pubguard rules check [--config FILE] [--format text|json]

Lints the rules a scan runs: every pattern compiles and is bounded, ids are unique, each
rule has at least two examples and two negative examples and a reference, every example is
reported (with a valid checksum where the format has one) and no negative example is.

Custom rules from the settings file (rules.custom) pass the same checks, except that fewer
than two examples or negative examples, or no reference, is a warning: a custom rule's
examples are optional. A custom rule whose every example another rule reports too gets a
warning naming the rule a scan reports such a secret as, and one without examples none of
whose keywords is text every match of its pattern holds (read from the pattern's literal
text, small alternations and classes, and positive look-arounds; not from an optional part,
(?:acme_)?, nor from one branch of an alternation, nor from a negative look-around,
(?<!acme_), whose text a match must not stand next to) a warning that it fires only where a
keyword happens to be nearby.
Warnings leave the exit code at 0.
A custom rule that does not compile or fit the settings file's schema (an invalid pattern, a
keyword shorter than 3 characters, flags other than i, m and s, a negative secretGroup), an
example of one that is not reported, or a negative example that is, is a problem of that rule
here (exit 1), the other rules still checked, where scan refuses the settings file (exit 2).
An unbounded quantifier (+, *, {n,}) is a problem here only: scan runs such a rule, its
regex being tried only in a bounded window around each keyword.

Options:
${CONFIG_OPTION}
  -f, --format FMT   text (default) or json (an array of {ruleId, message, level}, level
                     "error" or "warning")
  -h, --help         show this help

Exit codes: 0 no problems (warnings allowed), 1 problems found, 2 usage error or a settings
file that cannot be used (as for scan).
`;

function parseOptions(argv: string[]): { format: 'text' | 'json'; config: string | undefined } {
  const parsed = parseStrict({
    args: argv,
    options: { format: { type: 'string', short: 'f', default: 'text' }, config: { type: 'string', short: 'c' } },
    allowPositionals: false,
  });
  const format = parsed.values.format;
  if (format !== 'text' && format !== 'json') throw new UsageError(`unknown format '${format}' (use text or json)`);
  return { format, config: parsed.values.config };
}

/** Where the rules came from, for the last line of the text output; empty without a settings file. */
function configNote(rules: RulesConfig, cwd: string): string {
  if (!rules.loaded) return '';
  // An id named twice disables one rule.
  const disabled = new Set(rules.loaded.config.rules?.disable ?? []).size;
  const parts = [`${rules.custom.length + rules.invalid.length} custom`, ...(disabled > 0 ? [`${disabled} built-in disabled`] : [])];
  // A token in the config's path is shortened, as a scan shortens it in the paths it reports.
  return ` (${parts.join(', ')}; from ${maskNames(relative(cwd, rules.loaded.path) || rules.loaded.path)})`;
}

type ListedSource = 'builtin' | 'structure' | 'custom';

// The archive-structure checks, described as rules are: a scan reports their ids, so a user
// must be able to look them up here, though nothing but a per-entry allowlist turns them off.
const STRUCTURE_DEFS: readonly RuleDefinition[] = STRUCTURE_RULES.map((r) => ({
  id: r.id,
  title: r.title,
  severity: r.severity,
  confidence: 'high',
  description: r.description,
  keywords: [],
  examples: [],
  negative_examples: [],
}));

const MARKS: Record<ListedSource, string> = { builtin: '', structure: ' (structure check)', custom: ' (custom)' };

function listRules(rules: RulesConfig, format: 'text' | 'json', io: CliIO): void {
  const defs: Array<{ def: RuleDefinition; source: ListedSource }> = [
    ...rules.builtin.map((def) => ({ def, source: 'builtin' as const })),
    ...STRUCTURE_DEFS.map((def) => ({ def, source: 'structure' as const })),
    ...rules.custom.map((def) => ({ def, source: 'custom' as const })),
  ];
  if (format === 'json') {
    const rows = defs.map(({ def: d, source }) => ({
      id: d.id,
      title: d.title,
      severity: d.severity,
      confidence: d.confidence ?? 'medium',
      description: d.description ?? '',
      keywords: d.keywords,
      references: d.references ?? [],
      ...(d.paths ? { paths: d.paths } : {}),
      source,
      // rules.disable takes built-in ids only: a custom rule is turned off by removing it.
      disableable: source === 'builtin',
    }));
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const idWidth = Math.max(...defs.map(({ def }) => def.id.length), 2);
  const lines = defs.map(({ def: d, source }) => `${d.id.padEnd(idWidth)}  ${d.severity.padEnd(8)}  ${d.title}${MARKS[source]}`);
  const counts = `${countOf(defs.length - STRUCTURE_DEFS.length, 'rule', 'rules')}${configNote(rules, io.cwd)} and ${STRUCTURE_DEFS.length} archive-structure checks, which cannot be disabled`;
  io.stdout.write(`${['ID'.padEnd(idWidth), 'SEVERITY', 'TITLE'].join('  ')}\n${lines.join('\n')}\n${counts}\n`);
}

/** `pubguard rules list`: the rules a scan runs, built-in and from the settings file. */
export const rulesListCommand: Command = {
  name: 'rules list',
  help: LIST_HELP,
  async run(argv: string[], io: CliIO): Promise<CliResult> {
    const { format, config } = parseOptions(argv);
    listRules(await loadRulesConfig(io.cwd, config), format, io);
    return { exitCode: 0 };
  },
};

/**
 * The custom rules' problems: the built-ins' checks, relaxed, and a warning for each other
 * rule that reports every one of a custom rule's examples too.
 */
function checkCustomRules(rules: RulesConfig): RuleProblem[] {
  if (rules.custom.length === 0) return [];
  // A custom rule that does not compile is left out of the set compiled together, which would
  // fail as a whole: checkRules names its problem, and the other rules are still checked.
  const compilable = rules.custom.filter(compiles);
  const compiled = compileRules([...rules.builtin, ...compilable]).rules;
  return rules.custom.flatMap((def) => {
    const at = compilable.indexOf(def);
    const rule = at < 0 ? undefined : compiled[rules.builtin.length + at];
    return [...checkRules([def], { relaxed: true }), ...(rule ? checkRuleOverlaps(def, rule, compiled) : [])];
  });
}

function compiles(def: RuleDefinition): boolean {
  try {
    compileRules([def]);
    return true;
  } catch (error) {
    if (error instanceof RuleError) return false;
    throw error;
  }
}

/** `pubguard rules check`: lints the rules a scan runs; exit 1 when any rule has a problem. */
export const rulesCheckCommand: Command = {
  name: 'rules check',
  help: CHECK_HELP,
  async run(argv: string[], io: CliIO): Promise<CliResult> {
    const { format, config } = parseOptions(argv);
    // Examples untried, and custom rules that do not compile or fit the schema let through at
    // loading: they are reported below with every other problem.
    const rules = await loadRulesConfig(io.cwd, config, { examples: false, compile: false });
    const invalid = rules.invalid.map(({ id, message }): RuleProblem => ({ ruleId: id, message }));
    const all = [...checkRules(rules.builtin), ...invalid, ...checkCustomRules(rules)];
    const problems = all.filter((p) => p.level !== 'warning');
    const warnings = all.length - problems.length;
    const count = rules.builtin.length + rules.custom.length + rules.invalid.length;
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(all.map((p) => ({ ...p, level: p.level ?? 'error' })), null, 2)}\n`);
    } else {
      for (const p of all) io.stdout.write(`${p.ruleId ?? '(rule set)'}: ${p.level === 'warning' ? 'warning: ' : ''}${p.message}\n`);
      const note = configNote(rules, io.cwd);
      const warned = warnings > 0 ? `, ${countOf(warnings, 'warning', 'warnings')}` : '';
      if (problems.length === 0) io.stdout.write(`rules check: ${countOf(count, 'rule', 'rules')}${note}, no problems${warned}\n`);
      else io.stdout.write(`rules check: ${countOf(problems.length, 'problem', 'problems')} in ${new Set(problems.map((p) => p.ruleId)).size} of ${countOf(count, 'rule', 'rules')}${note}${warned}\n`);
    }
    return { exitCode: problems.length === 0 ? 0 : 1 };
  },
};
