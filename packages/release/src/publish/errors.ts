import { ReleaseError } from '../errors.js';

/** The publish stage could not run (bad option, a client missing, the registry failed); not a refusal. */
export class PublishError extends ReleaseError {
  override name = 'PublishError';
}
