import { resolve, sep } from 'node:path';

/**
 * A name with the version taken out of each path segment that carries one (`pkg-1.0.0.tgz` and
 * `pkg-1.0.1.tgz` both become `pkg-*.tgz`, `build-1.0.0/` becomes `build-*`): a baseline
 * follows a package to its next version, so its entries of `pkg-1.0.0.tgz` are entries of what
 * a scan of `pkg-1.0.1.tgz` reads. Segments are file names, a few hundred characters at most,
 * and the lazy match is tried once from each segment's start.
 */
function versionless(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      const name = /^([A-Za-z0-9][\w.+~-]*?)-v?\d/.exec(segment)?.[1];
      if (name === undefined) return segment;
      const extension = /\.[A-Za-z]+$/.exec(segment)?.[0] ?? '';
      return `${name}-*${extension}`;
    })
    .join('/');
}

/** The first directory of the artifact a recorded path names, or the artifact itself when it is at the top. */
function top(recorded: string): string {
  const artifact = (recorded.split('!')[0] ?? '').replace(/\\/g, '/');
  const slash = artifact.indexOf('/', 1);
  return slash === -1 ? artifact : artifact.slice(0, slash);
}

/** An absolute path with `/` separators and versions taken out, as `ReadScope` compares them. */
function key(path: string): string {
  return versionless(path.split(sep).join('/'));
}

/**
 * What a scan read, as the paths of its inputs: tells whether a path a baseline records (an
 * artifact, `dir/file.js`, or `artifact!entry`) lies in it, taken relative to `anchor`, the
 * directory `baseline create` ran in, which the baseline does not record (see `anchorOf`).
 */
export class ReadScope {
  private readonly roots: string[];
  private readonly stdin: boolean;

  constructor(inputs: readonly string[], cwd: string) {
    this.stdin = inputs.includes('-');
    this.roots = inputs.filter((input) => input !== '-').map((input) => key(resolve(cwd, input)));
  }

  /** Whether the scan read the artifact `recorded` names, relative to `anchor`: an input itself, or below an input directory. */
  holds(recorded: string, anchor: string): boolean {
    const artifact = recorded.split('!')[0] ?? '';
    if (artifact === '-') return this.stdin;
    if (artifact === '') return false;
    const path = key(resolve(anchor, artifact.replace(/\\/g, '/')));
    return this.roots.some((root) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`));
  }

  /**
   * The one of `anchors` that best places the paths recorded for entries that findings of
   * this scan matched (each entry's paths, a few hundred entries at most are looked at): those
   * entries are of what the scan read, and their files are there. The anchor that puts most of
   * them in this scope with `exists` finding their first directory there wins (not the file,
   * which the next version renames), then the one that puts most in this scope, then the
   * first: a scan of a directory holds every path relative to an anchor inside it, so being in
   * scope alone cannot tell the anchors apart.
   */
  anchorOf(anchors: readonly string[], matched: readonly (readonly string[])[], exists: (path: string) => boolean): string {
    const sample = matched.slice(0, 200);
    let best = anchors[0] ?? '.';
    let most: [number, number] = [-1, -1];
    for (const anchor of anchors) {
      let found = 0;
      let held = 0;
      for (const paths of sample) {
        const here = paths.filter((p) => this.holds(p, anchor));
        if (here.length === 0) continue;
        held++;
        if (here.some((p) => exists(resolve(anchor, top(p))))) found++;
      }
      if (found > most[0] || (found === most[0] && held > most[1])) [best, most] = [anchor, [found, held]];
    }
    return best;
  }
}
