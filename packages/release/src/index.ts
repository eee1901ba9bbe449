export {
  ReleaseError,
  ArtifactError,
  AmbiguousArtifactError,
  KeyError,
  EncryptedKeyError,
  SignatureFormatError,
  PolicyError,
  StatementError,
  AuditError,
} from './errors.js';
export {
  type VersionTagOptions,
  type VersionTagResult,
  type AcceptedTag,
  type RefusedTag,
  type PrereleaseKind,
  checkVersionTag,
  semverToPep440,
  pep440ToSemver,
} from './version.js';
export {
  type ArtifactKind,
  type ArtifactVersion,
  type NpmPublishFields,
  type VersionMismatch,
  type ArtifactVersionCheck,
  sha256File,
  readArtifactVersion,
  readArtifactVersions,
  fileNameVersion,
  artifactSemver,
  compareArtifactVersions,
  checkArtifactVersions,
} from './artifacts.js';
export {
  type SshKeyType,
  type SshPublicKey,
  type SshPrivateKey,
  keyFingerprint,
  parsePublicKeyBlob,
  parsePublicKeyLine,
  formatPublicKeyLine,
  parsePrivateKey,
  loadPrivateKey,
  parseKeyFilePublicKey,
  loadPublicKey,
} from './keys.js';
export { type SshSignature, APPROVAL_NAMESPACE, sshsigSign, parseSshsig, sshsigVerify } from './sshsig.js';
export {
  type ArtifactDigest,
  type ReleaseSubject,
  type ApprovalStatement,
  type DescribeReleaseOptions,
  type ReleaseManifest,
  type SignedApproval,
  STATEMENT_TYPE,
  normaliseArtifacts,
  inferPackageName,
  describeRelease,
  describeManifest,
  canonicalStatement,
  parseStatement,
  parseDuration,
  buildStatement,
  createApproval,
  approvalFileName,
} from './statement.js';
export {
  type ApprovalRule,
  type LoadedPolicy,
  type Policy,
  type QuotaAssignment,
  validatePolicy,
  loadPolicy,
  loadPolicyFile,
  assignQuotas,
  isInitiator,
  initiatorIsApprover,
  policyProblems,
} from './policy.js';
export {
  type ApprovalFile,
  type CountedApproval,
  type RejectedApproval,
  type ApprovalVerdict,
  type VerifyApprovalsOptions,
  MAX_SIGNATURE_BYTES,
  MAX_STATEMENT_BYTES,
  loadApprovals,
  loadApprovalsIfPresent,
  verifyApprovals,
} from './approvals.js';
export { SECRET_ENV_NAME, mask, secretsFromEnv, redactText, redactValue } from './redact.js';
export {
  type AuditOutcome,
  type AuditSubject,
  type AuditEntry,
  type AuditRecord,
  type AuditProblem,
  type AuditVerification,
  type AuditLogOptions,
  type AuditReadOptions,
  GENESIS,
  AuditLog,
} from './audit.js';
export { type FileLockOptions, FileLockError, type ReadLockOptions, withFileLock, withFileLockSync, withReadLock } from './lock.js';
export { PublishError } from './publish/errors.js';
export {
  type Ecosystem,
  type TokenCheck,
  type TokenCheckOptions,
  NPM_REGISTRY,
  PYPI_REPOSITORY,
  checkPublishToken,
  normaliseProject,
  publicRegistry,
  pypiTokenCaveats,
} from './publish/tokens.js';
export {
  type ClientResult,
  type CommandRunner,
  type NpmPublishOptions,
  type RunOptions,
  type TwineSkips,
  type TwineUploadOptions,
  clientFailureSummary,
  killClientsNow,
  npmAuthKey,
  npmPublish,
  spawnRunner,
  twineSkippedFiles,
  twineUpload,
} from './publish/clients.js';
export { type NotifyOptions, type NotifyResult, type PublishApprovals, type PublishNotification, describeWebhook, sendNotification, webhookProblem } from './publish/notify.js';
export {
  type ApprovedFile,
  type IndexFileCheck,
  type SimpleIndexFile,
  type SimpleIndexOptions,
  PYPI_SIMPLE_INDEX,
  TESTPYPI_SIMPLE_INDEX,
  checkIndexFiles,
  parseSimpleProjectPage,
  readSimpleProject,
  simpleIndexFor,
  simpleIndexProblem,
  simpleProjectUrl,
} from './publish/simple-index.js';
export { type PublishOptions, type PublishResult, type PublishScanSettings, type PublishStep, type StepOutcome, publishRelease, relativeToCwd } from './publish/pipeline.js';
export { type NpmRunOptions, npmRun } from './publish/clients.js';
export { type NpmPlanInput, type NpmPlanResult, type NpmPublishPlan, distTagProblem, planNpmPublish } from './publish/npm-settings.js';
export { UPLOAD_START_STAGE, UPLOAD_STAGE, UploadTracker, unfinishedUploads, uploadRegistry } from './publish/upload-trace.js';
export {
  type ExecuteIncidentOptions,
  type IncidentAction,
  type IncidentActionResult,
  type IncidentPlan,
  type IncidentPlanOptions,
  NPM_UNPUBLISH_WINDOW_MS,
  executeIncident,
  incidentPlan,
  incidentSecrets,
} from './publish/incident.js';
