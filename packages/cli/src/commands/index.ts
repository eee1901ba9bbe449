import type { Command } from '../io.js';

/** A command as `pubguard --help` lists it; its module is loaded only when it runs. */
export interface CommandEntry {
  name: string;
  /** One line for the command list in `pubguard --help`. */
  summary: string;
  load(): Promise<Command>;
}

// Loading a command's module on demand keeps start-up to what the command needs
// (`pubguard scan` never loads the publishing code). Sorted as `pubguard --help` shows them.
export const commands: CommandEntry[] = [
  { name: 'scan', summary: 'scan artifacts, archives and directories for secrets', load: async () => (await import('./scan.js')).scanCommand },
  { name: 'report merge', summary: 'merge the JSON reports of a sharded scan into one report', load: async () => (await import('./report.js')).reportMergeCommand },
  { name: 'baseline create', summary: 'record the fingerprints of current findings, which later scans leave out', load: async () => (await import('./baseline.js')).baselineCreateCommand },
  { name: 'init', summary: 'write a starter pubguard.config.json and scan before npm publish', load: async () => (await import('./init.js')).initCommand },
  { name: 'rules list', summary: 'list the rules a scan runs, built-in and custom (id, severity, title)', load: async () => (await import('./rules.js')).rulesListCommand },
  { name: 'rules check', summary: 'lint the rules a scan runs against their examples and negative examples', load: async () => (await import('./rules.js')).rulesCheckCommand },
  { name: 'version check', summary: 'refuse a malformed release tag or artifacts whose version differs', load: async () => (await import('./version.js')).versionCheckCommand },
  { name: 'confirm', summary: 'require a typed confirmation phrase before a release', load: async () => (await import('./confirm.js')).confirmCommand },
  { name: 'approve', summary: 'sign an approval of the exact release artifacts with your SSH key', load: async () => (await import('./approve.js')).approveCommand },
  { name: 'approvals verify', summary: 'check signed approvals of the exact artifacts against the policy', load: async () => (await import('./approvals.js')).approvalsVerifyCommand },
  { name: 'audit verify', summary: 'check the hash chain of the release audit log', load: async () => (await import('./audit.js')).auditVerifyCommand },
  { name: 'audit show', summary: 'print the release audit log readably', load: async () => (await import('./audit.js')).auditShowCommand },
  { name: 'publish npm', summary: 'gate, then npm publish exactly this tarball', load: async () => (await import('./publish.js')).publishNpmCommand },
  { name: 'publish pypi', summary: 'gate, then twine upload exactly these wheels and sdists', load: async () => (await import('./publish.js')).publishPypiCommand },
  { name: 'incident npm', summary: 'respond to a leaked npm release: deprecate, unpublish, revoke, rotate', load: async () => (await import('./incident.js')).incidentNpmCommand },
  { name: 'incident pypi', summary: 'respond to a leaked PyPI release: yank, token pages, rotation', load: async () => (await import('./incident.js')).incidentPypiCommand },
];
