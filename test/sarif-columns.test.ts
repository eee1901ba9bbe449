import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '@pubguard/corpus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { githubToken, runPubguard } from './helpers.js';

interface Sarif {
  runs: { results: { locations: { physicalLocation: { region: { startLine: number; startColumn: number } } }[]; properties: { byteOffset: number } }[] }[];
}
interface Report {
  findings: { location: { line: number; column: number; utf16Column?: number; byteOffset: number } }[];
}

let dir: string;
// Before the token: é and ö (two bytes, one UTF-16 unit each), ✓ (three bytes, one unit).
const line = (token: string) => `// héllo wörld ✓ const t = "${token}";\n`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pubguard-columns-'));
  const text = `${line(githubToken(new Prng(25)))}// 😀 ${line(githubToken(new Prng(26)))}`;
  await writeFile(join(dir, 'a.js'), text);
  await writeFile(join(dir, 'b.js'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pubguard scan columns on lines with non-ASCII text before the secret', () => {
  it.each(['a.js', 'b.js'])('SARIF places the secret of %s in UTF-16 code units, JSON gives both columns', async (file) => {
    const json = await runPubguard(['scan', '--format', 'json', file], { cwd: dir });
    expect(json.code).toBe(1);
    const locations = (JSON.parse(json.stdout) as Report).findings.map((f) => f.location);
    // "// héllo wörld ✓ const t = \"" is 28 units and 32 bytes; "// 😀 " adds 6 units and 8 bytes.
    expect(locations.map((l) => [l.line, l.column, l.utf16Column])).toEqual([
      [1, 33, 29],
      [2, 41, 35],
    ]);
    const sarif = await runPubguard(['scan', '--format', 'sarif', file], { cwd: dir });
    expect(sarif.code).toBe(1);
    const results = (JSON.parse(sarif.stdout) as Sarif).runs[0]?.results ?? [];
    expect(results.map((r) => r.locations[0]?.physicalLocation.region)).toEqual([
      { startLine: 1, startColumn: 29 },
      { startLine: 2, startColumn: 35 },
    ]);
    expect(results.map((r) => r.properties.byteOffset)).toEqual(locations.map((l) => l.byteOffset));
  });
});

describe('pubguard scan lines of a file with CR, CR LF and LF line ends', () => {
  it('JSON, SARIF and GitHub annotations count a lone CR and a CR LF as one line end each', async () => {
    // Lines: "// a" (CR), "// b" (CR LF), the first token (CR), "x" (LF), the second token (CR).
    const text = `// a\r// b\r\nconst t = "${githubToken(new Prng(27))}";\rx\n  y = "${githubToken(new Prng(28))}"\r`;
    await writeFile(join(dir, 'mac.js'), text);
    const json = await runPubguard(['scan', '--format', 'json', 'mac.js'], { cwd: dir });
    expect(json.code).toBe(1);
    const locations = (JSON.parse(json.stdout) as Report).findings.map((f) => f.location);
    expect(locations.map((l) => [l.line, l.column, l.utf16Column])).toEqual([
      [3, 12, 12],
      [5, 8, 8],
    ]);
    // The byte offset is the file's, whatever a line is.
    expect(locations.map((l) => l.byteOffset)).toEqual([text.indexOf('ghp_'), text.lastIndexOf('ghp_')]);
    const sarif = await runPubguard(['scan', '--format', 'sarif', 'mac.js'], { cwd: dir });
    const results = (JSON.parse(sarif.stdout) as Sarif).runs[0]?.results ?? [];
    expect(results.map((r) => r.locations[0]?.physicalLocation.region)).toEqual([
      { startLine: 3, startColumn: 12 },
      { startLine: 5, startColumn: 8 },
    ]);
    const github = await runPubguard(['scan', '--format', 'github', 'mac.js'], { cwd: dir });
    expect([...github.stdout.matchAll(/^::error file=mac\.js,line=(\d+),col=(\d+),/gm)].map((m) => [Number(m[1]), Number(m[2])])).toEqual([
      [3, 12],
      [5, 8],
    ]);
  });
});
