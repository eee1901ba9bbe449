import type { Command } from '../io.js';
import { approvalsVerifyCommand } from './approvals.js';
import { approveCommand } from './approve.js';
import { auditShowCommand, auditVerifyCommand } from './audit.js';
import { confirmCommand } from './confirm.js';
import { versionCheckCommand } from './version.js';
import { rulesCheckCommand, rulesListCommand } from './rules.js';
import { scanCommand } from './scan.js';
import { publishNpmCommand, publishPypiCommand } from './publish.js';
import { incidentNpmCommand, incidentPypiCommand } from './incident.js';
import { reportMergeCommand } from './report.js';
import { baselineCreateCommand } from './baseline.js';
import { initCommand } from './init.js';

// One line per command; keep the list sorted as `pubguard --help` shows it.
export const commands: Command[] = [
  scanCommand,
  reportMergeCommand,
  baselineCreateCommand,
  initCommand,
  rulesListCommand,
  rulesCheckCommand,
  versionCheckCommand,
  confirmCommand,
  approveCommand,
  approvalsVerifyCommand,
  auditVerifyCommand,
  auditShowCommand,
  publishNpmCommand,
  publishPypiCommand,
  incidentNpmCommand,
  incidentPypiCommand,
];
