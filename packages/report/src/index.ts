import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import { formatJunit } from './junit.js';
import { formatSarif } from './sarif.js';
import { formatText } from './text.js';
import type { ReportFormat, ReportInput, SarifOptions, TextOptions } from './types.js';

export { visible } from './escape.js';
export { formatGithub } from './github.js';
export { formatJson, mergeReports, parseJsonReport, ReportFormatError, ReportMergeError, toJsonReport } from './json.js';
export { formatJunit } from './junit.js';
export { compareFindings, sortFindings } from './order.js';
export { CODE_SCANNING_MAX_RESULTS, formatSarif, sarifSizeWarning } from './sarif.js';
export { formatText, summaryLine, useColor } from './text.js';
export type { JsonReport, ReportFormat, ReportInput, RuleInfo, SarifOptions, Severity, ShardInfo, TextOptions, ToolInfo } from './types.js';

/** Every format `formatReport` accepts, for CLI validation and help text. */
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'sarif', 'junit', 'github'];

/** Options for `formatReport`: text options (colour defaults to off) plus SARIF options. */
export type FormatOptions = Partial<TextOptions> & SarifOptions;

/** Formats a report in the given format; the result is the complete file or stdout text. */
export function formatReport(format: ReportFormat, input: ReportInput, options: FormatOptions = {}): string {
  switch (format) {
    case 'text':
      return formatText(input, { color: options.color ?? false, verbose: options.verbose ?? false });
    case 'json':
      return formatJson(input);
    case 'sarif':
      return formatSarif(input, options);
    case 'junit':
      return formatJunit(input);
    case 'github':
      return formatGithub(input);
  }
}
