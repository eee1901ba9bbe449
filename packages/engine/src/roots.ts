import { normaliseEntryPath } from '@pubguard/rules';

/** Longest top-directory name taken for `name-version`: a file name's limit on most file systems. */
const MAX_ROOT_NAME = 255;

/**
 * Whether a distribution's top directory is named `name-version` (`acme-1.0.0`,
 * `python-dateutil-2.8.2`, `build-1.0.0rc1`): the part that changes with every release. Two
 * linear tests rather than one regex, whose backtracking over a hostile name (`a-1-1-1…@`, as
 * long as a PAX header makes it) took quadratic time: the characters, then the first `-` and
 * digit, reached lazily, one step per character.
 */
function isNameVersion(name: string): boolean {
  return name.length <= MAX_ROOT_NAME && /^[A-Za-z0-9][\w.+!~-]*$/.test(name) && /^[A-Za-z0-9][\w.+~-]*?-v?\d/.test(name);
}

/** A wheel's `name-version.data` or `name-version.dist-info` directory, first in an entry path. */
const WHEEL_DIRECTORY = /^([^/]+?)-v?\d[^/-]*\.(data|dist-info)(?=\/|$)/;

/** What an archive's entries have shown so far of its layout. */
interface Layout {
  /** The first path segment every entry shares; null once two differ or one sits at the top. */
  top: string | null;
  /** Whether `<top>/package.json` or `<top>/PKG-INFO` is among the entries. */
  manifest: boolean;
  /** `rootOf`'s answer, once asked: every finding of the archive asks the same. */
  root?: string | null;
}

/**
 * The single top directory of each archive read, where it is a package's root that the same
 * package's directory, or its next version, does not have: npm's (`package/`, or whatever one
 * directory holds `package.json`) and an sdist's `name-version/`. Path findings are fingerprinted
 * without it, so that a baseline made of `--npm-files .` applies to the tarball `npm pack`
 * makes of it, and one made of `acme-1.0.0.tar.gz` to `acme-1.0.1.tar.gz`.
 */
export class PackageRoots {
  private readonly layouts = new Map<string, Layout>();
  /**
   * The root of each archive of artifacts already read (null: none). A finding matched on a
   * worker may come back after its artifact is done, and still needs its archive's root.
   */
  private readonly settled = new Map<string, string | null>();

  /** Takes one file of an archive (`chain` of two members or more) into its archive's layout. */
  note(chain: readonly string[]): void {
    const key = containerKey(chain);
    const layout = this.layouts.get(key);
    // Once two entries part ways the archive has no package root: nothing more to note.
    if (layout?.top === null) return;
    const path = normaliseEntryPath(chain[chain.length - 1] ?? '');
    const slash = path.indexOf('/');
    const segment = slash > 0 ? path.slice(0, slash) : null;
    if (layout === undefined) {
      this.layouts.set(key, { top: segment, manifest: segment !== null && isManifest(path, segment) });
      return;
    }
    if (segment !== layout.top) {
      layout.top = null;
      return;
    }
    if (!layout.manifest && isManifest(path, segment)) layout.manifest = true;
  }

  /**
   * The package root of the archive holding the member that `chain` ends with, once all of
   * that archive's entries have been noted; undefined when it has none.
   */
  rootOf(chain: readonly string[]): string | undefined {
    const layout = this.layouts.get(containerKey(chain));
    if (layout?.top == null) return undefined;
    layout.root ??= layout.manifest || isNameVersion(layout.top) ? layout.top : null;
    return layout.root ?? undefined;
  }

  /**
   * Whether the archive holding the member that `chain` ends with is read in full: its root
   * (or null for none) once it is, undefined while its entries may still change the answer.
   */
  settledRoot(chain: readonly string[]): string | null | undefined {
    return this.settled.get(containerKey(chain));
  }

  /** Keeps the root of every archive noted so far, all of whose entries have been seen: the next artifact's are new ones. */
  settle(): void {
    for (const [key, layout] of this.layouts) {
      layout.root ??= layout.top !== null && (layout.manifest || isNameVersion(layout.top)) ? layout.top : null;
      this.settled.set(key, layout.root);
    }
    this.layouts.clear();
  }
}

/**
 * `path` (an archive member's) split at its first directory, as `fingerprintPath` would strip
 * it were that directory its archive's package root; undefined when it has no directory.
 */
export function firstDirectory(path: string): { top: string; below: string } | undefined {
  const below = path.replace(/\\/g, '/').replace(/^(?:\.\/+)+/, '');
  const slash = below.indexOf('/');
  if (slash <= 0 || below.length <= slash + 1) return undefined;
  return { top: below.slice(0, slash), below: below.slice(slash + 1) };
}

/**
 * The path a path finding is fingerprinted by: `path` (an entry path, or a path below a scanned
 * directory) without the package root `root`, and with a wheel's `name-version.data/` or
 * `name-version.dist-info/` directory named without its version.
 */
export function fingerprintPath(path: string, root?: string): string {
  let out = path;
  if (root !== undefined) {
    // As `note` saw it, but a `../` stays: that entry is not below the root.
    const below = path.replace(/\\/g, '/').replace(/^(?:\.\/+)+/, '');
    if (below.startsWith(`${root}/`) && below.length > root.length + 1) out = below.slice(root.length + 1);
  }
  return out.replace(WHEEL_DIRECTORY, '$1.$2');
}

function containerKey(chain: readonly string[]): string {
  return chain.slice(0, -1).join('\0');
}

function isManifest(path: string, top: string): boolean {
  return path === `${top}/package.json` || path === `${top}/PKG-INFO`;
}
