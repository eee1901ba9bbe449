export { type ArchiveEntry, FIXED_MTIME, gzipBuffer, tarBuffer, tgzBuffer, zipBuffer } from './archive.js';
export {
  type CarrierFile,
  type CarrierOptions,
  type Plant,
  type PlantedSecret,
  type PlantInput,
  binaryBlob,
  canEmbedInline,
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
export { CorpusError } from './errors.js';
export { type PackageFile, npmTarball, pythonDistName, sdist, sdistFileName, wheel, wheelFileName } from './packagers.js';
export { Prng } from './prng.js';
