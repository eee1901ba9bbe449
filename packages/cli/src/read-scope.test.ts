import { describe, expect, it } from 'vitest';
import { ReadScope } from './read-scope.js';

const cwd = '/work/project';

describe('ReadScope', () => {
  it('holds an input itself and what lies below an input directory, however the input is spelled', () => {
    const scope = new ReadScope(['./packages/a/', 'dist/one.tgz'], cwd);
    expect(scope.holds('packages/a/lib/x.js', cwd)).toBe(true);
    expect(scope.holds('packages/a', cwd)).toBe(true);
    expect(scope.holds('dist/one.tgz!package/lib/x.js', cwd)).toBe(true);
    expect(scope.holds('/work/project/packages/a/x.js', cwd)).toBe(true);
    expect(scope.holds('packages/ab/x.js', cwd)).toBe(false);
    expect(scope.holds('packages/b/lib/x.js', cwd)).toBe(false);
    expect(scope.holds('dist/two.tgz!package/lib/x.js', cwd)).toBe(false);
    expect(scope.holds('', cwd)).toBe(false);
  });

  it("holds another version of a package's artifact or directory, not another package's", () => {
    const scope = new ReadScope(['dist/pkg-1.0.1.tgz', 'dist/acme-2.0.0-py3-none-any.whl', 'dist/scope-pkg-1.0.1.tgz', 'build-1.0.1'], cwd);
    expect(scope.holds('dist/pkg-1.0.0.tgz!package/a.js', cwd)).toBe(true);
    expect(scope.holds('dist/acme-1.9.0-py3-none-any.whl!acme/a.py', cwd)).toBe(true);
    expect(scope.holds('dist/scope-pkg-1.0.0.tgz!package/a.js', cwd)).toBe(true);
    expect(scope.holds('build-1.0.0/lib/a.js', cwd)).toBe(true);
    expect(scope.holds('dist/pkg2-1.0.0.tgz!package/a.js', cwd)).toBe(false);
    expect(scope.holds('dist/scope-other-1.0.0.tgz!package/a.js', cwd)).toBe(false);
    expect(scope.holds('dist/acme-1.9.0.tar.gz!acme-1.9.0/a.py', cwd)).toBe(false);
    expect(scope.holds('dist/pkg-1.0.0.zip', cwd)).toBe(false);
  });

  it('holds standard input only when it was scanned', () => {
    expect(new ReadScope(['-'], cwd).holds('-!package/a.js', cwd)).toBe(true);
    expect(new ReadScope(['.'], cwd).holds('-', cwd)).toBe(false);
  });

  it('takes recorded paths from the anchor where the files of matched entries are', () => {
    // Run in packages/a, `scan .` holds any path taken from there: the first directory tells.
    const here = `${cwd}/packages/a`;
    const scope = new ReadScope(['.'], here);
    const exists = (path: string) => [`${cwd}/packages`, `${here}/lib`].includes(path);
    expect(scope.anchorOf([here, cwd], [['packages/a/lib/x.js']], exists)).toBe(cwd);
    expect(scope.anchorOf([cwd, here], [['lib/x.js']], exists)).toBe(here);
    // With nothing to go by, the first.
    expect(scope.anchorOf([here, cwd], [], exists)).toBe(here);
    expect(scope.holds('packages/b/x.js', cwd)).toBe(false);
    expect(scope.holds('packages/a/x.js', cwd)).toBe(true);
  });
});
