import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let available: boolean | undefined;

/** Whether `python3` runs on this machine: compiled Python fixtures are made with it, when needed. */
export function python3Available(): boolean {
  if (available === undefined) {
    try {
      execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** How a pyc ties itself to its source (PEP 552): its modification time, or its hash, checked or not. */
export type PycInvalidation = 'TIMESTAMP' | 'CHECKED_HASH' | 'UNCHECKED_HASH';

/**
 * The .pyc `python3` compiles `source` to, as py_compile (and pip, and compileall) writes it.
 * The source is named `module.py` in it whatever the temporary directory, so the bytes depend
 * only on the source, the Python version and, for `TIMESTAMP`, the time.
 */
export function compilePyc(source: string, invalidation: PycInvalidation = 'TIMESTAMP'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'pubguard-corpus-pyc-'));
  try {
    const py = join(dir, 'module.py');
    const out = join(dir, 'module.pyc');
    writeFileSync(py, source);
    const script = `import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile='module.py', doraise=True, invalidation_mode=py_compile.PycInvalidationMode.${invalidation})`;
    execFileSync('python3', ['-c', script, py, out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
