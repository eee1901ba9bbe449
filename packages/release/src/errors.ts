/** Base class of every fatal error from @pubguard/release; its message is meant for users. */
export class ReleaseError extends Error {
  override name = 'ReleaseError';
}

/** An artifact could not be read, or holds no version where one was expected. */
export class ArtifactError extends ReleaseError {
  override name = 'ArtifactError';
}

/**
 * An artifact whose package metadata npm or twine could read from another member than the one
 * checked: it is refused whatever the command line says of its name and version.
 */
export class AmbiguousArtifactError extends ArtifactError {
  override name = 'AmbiguousArtifactError';
}

/** A key file or public key line could not be used. */
export class KeyError extends ReleaseError {
  override name = 'KeyError';
}

/** A private key file is encrypted with a passphrase, which pubguard does not read; its public part can still be read. */
export class EncryptedKeyError extends KeyError {
  override name = 'EncryptedKeyError';
}

/** A signature file is truncated, malformed or of an unsupported kind. */
export class SignatureFormatError extends ReleaseError {
  override name = 'SignatureFormatError';
}

/** The policy file is missing, not JSON, or breaks the schema; the message names the key. */
export class PolicyError extends ReleaseError {
  override name = 'PolicyError';
}

/** An approval statement or manifest is not in the expected form. */
export class StatementError extends ReleaseError {
  override name = 'StatementError';
}

/** The audit log cannot be read or written. */
export class AuditError extends ReleaseError {
  override name = 'AuditError';
}
