import { describe, expect, it } from 'vitest';
import { RULES, emptyInput, finding, goldenInput, withUtf16Column } from './__fixtures__/input.js';
import { formatGithub } from './index.js';

interface Command {
  kind: string;
  props: Record<string, string>;
  message: string;
}

// Reads a workflow command back the way the Actions runner does (percent-decoding per field).
function parseCommand(line: string): Command {
  const m = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (!m) throw new Error(`not a workflow command: ${line}`);
  const decodeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const decodeProp = (s: string) => decodeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','));
  const props: Record<string, string> = {};
  for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    props[pair.slice(0, eq)] = decodeProp(pair.slice(eq + 1));
  }
  return { kind: m[1]!, props, message: decodeData(m[3]!) };
}

describe('formatGithub', () => {
  it('writes one ::error per finding and one ::warning per scan error, one per line', () => {
    const lines = formatGithub(goldenInput()).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    const commands = lines.map(parseCommand);
    expect(commands.map((c) => c.kind)).toEqual(['error', 'error', 'error', 'error', 'warning', 'warning']);
    expect(commands[0]!.props).toEqual({
      file: 'dist/app/config.js',
      line: '12',
      col: '5',
      title: 'GitHub personal access token (github-classic-token)',
    });
  });

  it("gives col= in UTF-16 code units, as the editor shows it, and none where the scan did not count them; the message keeps the byte column", () => {
    const input = emptyInput();
    input.findings = [withUtf16Column(finding('a.js', [], 1, 12, RULES[0]!, 'label-1'), 9), finding('b.js', [], 1, 12, RULES[0]!, 'label-2'), finding('c.js', [], 1, 1, RULES[0]!, 'label-3')];
    const commands = formatGithub(input).trimEnd().split('\n').map(parseCommand);
    expect(commands.map((c) => [c.props.file, c.props.col])).toEqual([
      ['a.js', '9'],
      ['b.js', undefined],
      ['c.js', '1'],
    ]);
    expect(commands[0]!.message).toContain('a.js:1:12');
  });

  it('annotates an archive member on the archive, with the inner position in the message', () => {
    const commands = formatGithub(goldenInput()).trimEnd().split('\n').map(parseCommand);
    const deep = commands.find((c) => c.props.file === 'dist/bundle.zip')!;
    expect(deep.props.line).toBeUndefined();
    expect(deep.message).toContain('dist/bundle.zip!inner/pkg-1.0.0.tgz!package/vendor/lib-1.0-py3-none-any.whl!lib/settings.py:3:17');
  });

  it('escapes %, CR, LF, : and , so values read back exactly and nothing starts a new command', () => {
    const input = emptyInput();
    input.findings = [finding('we,ird:100%\r\n::error::x.js', [], 1, 1, { ...RULES[0]!, title: 'T: a, b%' }, 'label-esc')];
    const out = formatGithub(input);
    expect(out.split('\n')).toHaveLength(2);
    const [command] = out.trimEnd().split('\n').map(parseCommand);
    expect(command!.props.file).toBe('we,ird:100%\r\n::error::x.js');
    expect(command!.props.title).toBe('T: a, b% (github-classic-token)');
    expect(command!.message).toContain('we,ird:100%\r\n::error::x.js:1:1');
  });

  it('shows other control characters instead of writing them to the log', () => {
    const out = formatGithub(goldenInput());
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(out).toContain('evil%0Aname\\x07\\x1b[31m.js');
  });

  it('attaches nothing read from standard input to a file, keeping where it was in the message', () => {
    const input = emptyInput();
    input.findings = [finding('-', [], 3, 7, RULES[0]!, 'label-stdin'), finding('-', ['package/x.js'], 2, 5, RULES[0]!, 'label-stdin-tar')];
    input.errors = [{ path: '-!package/broken.zip', kind: 'corrupt', message: 'truncated' }];
    const commands = formatGithub(input).trimEnd().split('\n').map(parseCommand);
    expect(commands).toHaveLength(3);
    for (const c of commands) expect(c.props.file, c.message).toBeUndefined();
    const plain = commands.find((c) => c.message.includes('at -:3:7'))!;
    expect(plain.props).toEqual({ title: 'GitHub personal access token (github-classic-token)' });
    expect(commands.some((c) => c.message.includes('at -!package/x.js:2:5'))).toBe(true);
    expect(commands.find((c) => c.kind === 'warning')!).toEqual({ kind: 'warning', props: { title: 'pubguard: corrupt' }, message: '-!package/broken.zip: truncated' });
  });

  it('annotates a secret in a file name on the file, without a line, and says it is in the name', () => {
    const input = emptyInput();
    input.findings = [{ ...finding('dist/keys/ghp_…0007.json', [], 1, 1, RULES[0]!, 'ghp_-label-name-0007'), in: 'name' }];
    const [command] = formatGithub(input).trimEnd().split('\n').map(parseCommand);
    expect(command!.props).toEqual({ file: 'dist/keys/ghp_…0007.json', title: 'GitHub personal access token (github-classic-token)' });
    expect(command!.message).toBe('critical secret ghp_…0007 in the name of dist/keys/ghp_…0007.json. Rotate the credential, remove it from the artifact, rebuild.');
  });

  it('writes nothing for a clean scan', () => {
    expect(formatGithub(emptyInput())).toBe('');
  });

  it('words a finding without a secret value (a file that must not ship) as a finding, not an empty secret', () => {
    const input = emptyInput();
    input.findings = [{ ...finding('dist/a.tgz', ['package/.env'], 1, 1, RULES[0]!, 'label-path'), secret: '' }];
    const [command] = formatGithub(input).trimEnd().split('\n').map(parseCommand);
    expect(command!.message).toBe(
      'critical finding at dist/a.tgz!package/.env:1:1. Remove it from the artifact and rebuild; rotate any credential it contains.',
    );
  });
});
