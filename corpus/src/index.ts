export {
  type AcceptanceManifest,
  type AcceptanceOptions,
  type ExpectedFinding,
  type SkippedRule,
  generateAcceptanceSet,
  isLineAnchored,
  locateSecret,
  pathForGlobs,
} from './acceptance.js';
export { type ArchiveEntry, FIXED_MTIME, gzipBuffer, tarBuffer, tgzBuffer, zipBuffer } from './archive.js';
export {
  type CarrierFile,
  type CarrierOptions,
  type Plant,
  type PlantedSecret,
  type PlantInput,
  binaryBlob,
  canEmbedInline,
  configFile,
  envFile,
  jsModule,
  jsonFile,
  lineColumnAt,
  minifiedBundle,
  notebook,
  pythonModule,
  sourceMap,
  straddleFile,
  yamlFile,
} from './carriers.js';
export { type Decoy, base62Crc32, decoys, wrongChecksumToken } from './decoys.js';
export { CorpusError } from './errors.js';
export { type PackageFile, npmTarball, pythonDistName, sdist, sdistFileName, wheel, wheelFileName } from './packagers.js';
export { Prng } from './prng.js';
export { type PycInvalidation, compilePyc, python3Available } from './pyc.js';
