/** A request the corpus generator cannot honour (bad entry, a text a carrier cannot embed verbatim, unsafe output directory). */
export class CorpusError extends Error {
  override name = 'CorpusError';
}
