import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '@pubguard/release';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIO } from '../testing.js';

const cwd = mkdtempSync(join(tmpdir(), 'pubguard-cli-audit-'));

describe('pubguard audit', () => {
  it('shows and verifies the log the gates write, and catches truncation against --head', async () => {
    await run(['confirm', '--phrase', 'go', '--input', 'go', '--actor', 'ann'], memoryIO({ cwd }));
    await run(['version', 'check', 'v1.2'], memoryIO({ cwd, env: { USER: 'bo' } }));
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show'], show)).exitCode).toBe(0);
    expect(show.out()).toMatch(/^#1 \S+ confirm PASSED by ann\n {4}typed the phrase "go"\n#2 \S+ version REFUSED by bo — v1\.2\n/);
    const v = memoryIO({ cwd });
    expect((await run(['audit', 'verify', '-f', 'json'], v)).exitCode).toBe(0);
    const { head, records } = JSON.parse(v.out());
    expect(records).toBe(2);
    const path = join(cwd, '.pubguard/audit.jsonl');
    writeFileSync(path, `${readFileSync(path, 'utf8').split('\n')[0]}\n`);
    const one = memoryIO({ cwd });
    expect((await run(['audit', 'verify'], one)).exitCode).toBe(0);
    expect(one.out()).toMatch(/^audit log intact: 1 record, head [0-9a-f]{64}\n$/);
    const cut = memoryIO({ cwd });
    expect((await run(['audit', 'verify', '--head', head], cut)).exitCode).toBe(1);
    expect(cut.out()).toContain('truncated or rewritten');
  });

  it('shows line breaks and terminal escapes in a record escaped, never as a forged record', async () => {
    const path = join(cwd, 'escapes.jsonl');
    const actor = 'eve\n#2 2030-01-01T00:00:00.000Z approvals PASSED by alice\x1b[2K';
    await run(['confirm', '--phrase', 'go', '--input', 'go', '--actor', actor, '--audit', path], memoryIO({ cwd }));
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], show)).exitCode).toBe(0);
    const lines = show.out().split('\n');
    expect(lines[0]).toMatch(/^#1 \S+ confirm PASSED by eve\\x0a#2 2030-01-01T00:00:00\.000Z approvals PASSED by alice\\x1b\[2K$/);
    expect(lines[1]).toBe('    typed the phrase "go"');
    expect(show.out()).not.toContain('\x1b');
  });

  it('reports an edited record with exit 1', async () => {
    const path = join(cwd, 'edit.jsonl');
    for (const input of ['a', 'b']) await run(['confirm', '--phrase', 'a', '--input', input, '--audit', path], memoryIO({ cwd }));
    writeFileSync(path, readFileSync(path, 'utf8').replace('"refused"', '"passed"'));
    const io = memoryIO({ cwd });
    expect((await run(['audit', 'verify', path], io)).exitCode).toBe(1);
    expect(io.out()).toContain('line 2: record 2 was edited');
  });

  it('shows the records before a last line cut off mid-record, says so, and exits as audit verify does', async () => {
    const path = join(cwd, 'cut.jsonl');
    for (const input of ['a', 'b']) await run(['confirm', '--phrase', 'a', '--input', input, '--actor', 'ann', '--audit', path], memoryIO({ cwd }));
    const whole = readFileSync(path, 'utf8');
    // A third append cut off after 25 bytes, as a crash leaves it.
    await run(['confirm', '--phrase', 'a', '--input', 'a', '--actor', 'ann', '--audit', path], memoryIO({ cwd }));
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, whole.length + 25));
    const verify = memoryIO({ cwd });
    const verifyCode = (await run(['audit', 'verify', path], verify)).exitCode;
    expect(verifyCode).toBe(1);
    // Damage, told apart from an edit: one problem, and the records before it checked.
    expect(verify.out()).toBe(
      'line 3: last line is cut off mid-record (no newline, the start of the next record): an append did not finish\n' +
        'audit log DAMAGED: its last line is cut off, and the 2 records before it are intact; keep a copy, remove that line, and verify again\n',
    );
    // Other text in its place, or a record's start with the wrong number, is no append's: an edit.
    for (const tail of ['garbage', whole.split('\n')[1]!.slice(0, 25)]) {
      writeFileSync(path, `${whole}${tail}`);
      const edited = memoryIO({ cwd });
      expect((await run(['audit', 'verify', path], edited)).exitCode).toBe(1);
      expect(edited.out()).toContain('line 3: last line has no newline and is not the start of the next record\n');
      expect(edited.out()).toContain('audit log TAMPERED');
    }
    // A whole record that lost only its newline is damage too, its record checked as the others.
    writeFileSync(path, whole.slice(0, -1));
    const newline = memoryIO({ cwd });
    expect((await run(['audit', 'verify', path], newline)).exitCode).toBe(1);
    expect(newline.out()).toBe('line 2: last line has no newline: an append stopped just before it\naudit log DAMAGED: its last record lacks its newline, and all 2 records are intact; add the newline (echo >> FILE) and verify again\n');
    // Back to a third append cut off, for audit show.
    writeFileSync(path, `${whole}{"seq":3,"time":"2026-11-28T00:00:00.000Z"`);
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], show)).exitCode).toBe(verifyCode);
    expect(show.err()).toBe('');
    expect(show.out()).toMatch(/^#1 \S+ confirm PASSED by ann\n.*\n#2 \S+ confirm REFUSED by ann\n.*\nline 3 is INCOMPLETE: it has no newline at its end \(an append cut off\?\) and is not shown; check the log with `pubguard audit verify`\n$/);
    const json = memoryIO({ cwd });
    expect((await run(['audit', 'show', path, '-f', 'json'], json)).exitCode).toBe(verifyCode);
    const out = JSON.parse(json.out());
    expect(out.records.map((r: { seq: number }) => r.seq)).toEqual([1, 2]);
    expect(out.cutLine).toBe(3);
    // A log that is only a cut-off line has no record to show, and says that too.
    writeFileSync(path, whole.slice(0, 30));
    const only = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], only)).exitCode).toBe(1);
    expect(only.out()).toBe('(no records)\nline 1 is INCOMPLETE: it has no newline at its end (an append cut off?) and is not shown; check the log with `pubguard audit verify`\n');
    // A corrupt line elsewhere is not a cut-off append: still a fatal error.
    writeFileSync(path, `${whole.split('\n')[0]}\n{"seq":2,"ti\n`);
    const corrupt = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], corrupt)).exitCode).toBe(2);
    expect(corrupt.err()).toContain('line 2 is not JSON');
  });

  it('says once that line ends were converted to CRLF, in verify, show and a gate, instead of calling every record edited', async () => {
    const path = join(cwd, 'crlf.jsonl');
    for (const input of ['a', 'b', 'a']) await run(['confirm', '--phrase', 'a', '--input', input, '--actor', 'ann', '--audit', path], memoryIO({ cwd }));
    const written = readFileSync(path, 'utf8');
    const converted = written.replace(/\n/g, '\r\n');
    writeFileSync(path, converted);
    const verify = memoryIO({ cwd });
    expect((await run(['audit', 'verify', 'crlf.jsonl'], verify)).exitCode).toBe(1);
    expect(verify.out()).toBe(
      'every line ends in CRLF where a record ends in LF: the line ends were converted (git core.autocrlf, a Windows editor?); each record was checked with its CR removed\n' +
        "audit log CONVERTED: its line ends were changed to CRLF, and all 3 records are intact once the CRs are removed; remove them (sed -i 's/\\r$//' crlf.jsonl, or dos2unix crlf.jsonl) and verify again\n",
    );
    const json = memoryIO({ cwd });
    expect((await run(['audit', 'verify', 'crlf.jsonl', '-f', 'json'], json)).exitCode).toBe(1);
    expect(JSON.parse(json.out()).problems).toEqual([expect.objectContaining({ line: 0, crlf: 'converted' })]);
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show', 'crlf.jsonl'], show)).exitCode).toBe(1);
    expect(show.out()).toMatch(/^#1 \S+ confirm PASSED by ann\n.*\n#2 \S+ confirm REFUSED by ann\n.*\n#3 \S+ confirm PASSED by ann\n.*\n/);
    expect(show.out()).toMatch(
      /\nall 3 records end in CRLF where a record ends in LF: the log's line ends were CONVERTED \(git core\.autocrlf, a Windows editor\?\), and it fails `pubguard audit verify crlf\.jsonl` until the CRs are removed \(sed -i 's\/\\r\$\/\/' crlf\.jsonl, or dos2unix crlf\.jsonl\), which then says whether its records are intact\n$/,
    );
    const shown = memoryIO({ cwd });
    expect((await run(['audit', 'show', 'crlf.jsonl', '-f', 'json'], shown)).exitCode).toBe(1);
    expect(JSON.parse(shown.out())).toMatchObject({ crlfLines: 3 });
    // A gate writes nothing after a converted line, and says why.
    const gate = memoryIO({ cwd });
    expect((await run(['confirm', '--phrase', 'a', '--input', 'a', '--audit', path], gate)).exitCode).toBe(2);
    expect(gate.err()).toContain(`audit log ${path} has CRLF line ends`);
    expect(gate.err()).not.toMatch(/chain broken|edited|TAMPERED/);
    expect(readFileSync(path, 'utf8')).toBe(converted);
    // A partial conversion is named by its lines.
    writeFileSync(path, written.replace(/\n(?=[^]*\n[^]*\n)/, '\r\n'));
    const mixed = memoryIO({ cwd });
    expect((await run(['audit', 'verify', path], mixed)).exitCode).toBe(1);
    expect(mixed.out()).toMatch(/^line 1 \(1 of 3 lines\) ends in CRLF .*\naudit log CONVERTED: .* all 3 records are intact once the CRs are removed; /);
    writeFileSync(path, written);
    expect((await run(['audit', 'verify', path], memoryIO({ cwd }))).exitCode).toBe(0);
  });

  it('shows the records one at a time, printing what the whole JSON document would be', async () => {
    const path = join(cwd, 'stream.jsonl');
    const log = new AuditLog(path);
    // Nested details, characters of every UTF-8 length, and U+2028, which JSON leaves as it is.
    for (const [i, reason] of ['plain', 'café ✓ 😀', 'a\u2028b', 'quote " and \\ backslash'].entries()) {
      await log.append({ stage: 'approve', outcome: 'passed', actor: 'ann', subjects: [{ name: `a${i}.tgz`, sha256: 'c'.repeat(64) }], reason, details: { counted: [{ person: 'bo', groups: [] }], empty: {} } });
    }
    const show = async (file: string): Promise<string> => {
      const io = memoryIO({ cwd });
      await run(['audit', 'show', file, '-f', 'json'], io);
      return io.out();
    };
    const { records } = await log.readComplete();
    expect(records).toHaveLength(4);
    expect(await show(path)).toBe(`${JSON.stringify({ version: 1, records }, null, 2)}\n`);
    appendFileSync(path, '{"seq":5,"time":"20');
    expect(await show(path)).toBe(`${JSON.stringify({ version: 1, records, cutLine: 5 }, null, 2)}\n`);
    const empty = join(cwd, 'empty.jsonl');
    writeFileSync(empty, '');
    expect(await show(empty)).toBe(`${JSON.stringify({ version: 1, records: [] }, null, 2)}\n`);
    writeFileSync(empty, '{"seq":1,');
    expect(await show(empty)).toBe(`${JSON.stringify({ version: 1, records: [], cutLine: 1 }, null, 2)}\n`);
  });

  it('stops showing once standard output is closed, with the exit code the log gives', async () => {
    const path = join(cwd, 'closed-reader.jsonl');
    const log = new AuditLog(path);
    // Records of 100 KB: each is written out on its own, so the reader leaves after the first.
    for (let i = 1; i <= 5; i++) await log.append({ stage: 'confirm', outcome: 'passed', actor: 'ann', subjects: [], reason: `${i} ${'x'.repeat(100_000)}` });
    appendFileSync(path, '{"seq":6,"ti');
    let taken = '';
    let gone = false;
    const io = { ...memoryIO({ cwd }), stdout: { write: (text: string) => void ((taken += text), (gone = true)), closed: () => gone } };
    expect((await run(['audit', 'show', path], io)).exitCode).toBe(1);
    expect(io.err()).toBe('');
    expect(taken.match(/^#\d+ /gm)).toEqual(['#1 ']);
  });

  it('stops at a signal, saying what it left undone, exit 2', async () => {
    const path = join(cwd, 'signalled.jsonl');
    await new AuditLog(path).append({ stage: 'confirm', outcome: 'passed', actor: 'ann', subjects: [], reason: 'typed it' });
    const controller = new AbortController();
    controller.abort();
    const verify = memoryIO({ cwd, signal: controller.signal });
    expect((await run(['audit', 'verify', path], verify)).exitCode).toBe(2);
    expect(verify.out()).toBe('');
    expect(verify.err()).toBe(`pubguard audit verify: interrupted before ${path} was read to its end: it was not verified\n`);
    const show = memoryIO({ cwd, signal: controller.signal });
    expect((await run(['audit', 'show', path], show)).exitCode).toBe(2);
    expect(show.out()).toBe('');
    expect(show.err()).toBe(`pubguard audit show: interrupted before ${path} was read to its end: no record was shown\n`);
  });

  it('exits 2 for a missing log or a bad --head', async () => {
    const io = memoryIO({ cwd });
    expect((await run(['audit', 'verify', 'nope.jsonl'], io)).exitCode).toBe(2);
    expect(io.err()).toMatch(/cannot read audit log .*nope\.jsonl: no such file \(no gate has written to it yet, or the path is mistyped\)/);
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show', 'nope.jsonl'], show)).exitCode).toBe(2);
    expect(show.err()).toContain('cannot read audit log');
    expect(show.out()).not.toContain('no records');
    expect((await run(['audit', 'verify', '--head', 'xyz'], memoryIO({ cwd }))).exitCode).toBe(2);
    expect((await run(['audit', 'show', '--help'], memoryIO())).exitCode).toBe(0);
  });

  it('names an upload that started and has no record of its end, and what that means', async () => {
    const path = join(cwd, 'upload.jsonl');
    const log = new AuditLog(path);
    const subjects = [{ name: 'acme-1.0.0.tgz', sha256: 'a'.repeat(64) }];
    const details = { ecosystem: 'npm', registry: 'https://registry.npmjs.org/' };
    const upload = (stage: string, outcome: 'started' | 'passed') => log.append({ stage, outcome, actor: 'ci', subjects, reason: '', details });
    await upload('publish.upload-start', 'started');
    await upload('publish.upload', 'passed');
    const done = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], done)).exitCode).toBe(0);
    expect(done.out()).toContain('publish.upload-start STARTED by ci');
    expect(done.out()).not.toContain('no upload record');
    // A run killed during the upload writes nothing after its start.
    await upload('publish.upload-start', 'started');
    const show = memoryIO({ cwd });
    expect((await run(['audit', 'show', path], show)).exitCode).toBe(0);
    expect(show.out().trim().split('\n').at(-1)).toBe(
      '#3 publish.upload-start has no upload record after it: that upload is still running, or its run was killed during it, so the files may or may not be on https://registry.npmjs.org/; look there before publishing them again',
    );
    const json = memoryIO({ cwd });
    expect((await run(['audit', 'show', path, '-f', 'json'], json)).exitCode).toBe(0);
    expect(JSON.parse(json.out())).toMatchObject({ unfinishedUploads: [3] });
    expect((await run(['audit', 'verify', path], memoryIO({ cwd }))).exitCode).toBe(0);
  });
});
