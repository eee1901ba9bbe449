import { describe, expect, it } from 'vitest';
import { RULES, emptyInput, finding, goldenInput } from './__fixtures__/input.js';
import { formatJunit } from './index.js';

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: Element[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescape(text: string): string {
  return text.replace(/&(#(\d+)|#x([0-9a-fA-F]+)|(\w+));/g, (m, _all, dec?: string, hex?: string, name?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
    const ch = name ? ENTITIES[name] : undefined;
    if (ch === undefined) throw new Error(`unknown entity ${m}`);
    return ch;
  });
}

// A strict little XML reader, enough to prove the output is well-formed and that every
// attribute and text node reads back as the original string.
function parseXml(xml: string): Element {
  const invalid = xml.match(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  if (invalid) throw new Error(`character not allowed in XML: U+${invalid[0].charCodeAt(0).toString(16)}`);
  let pos = 0;
  const decl = /^<\?xml [^?]*\?>\n/.exec(xml);
  if (!decl) throw new Error('missing XML declaration');
  pos = decl[0].length;
  const root: Element = { name: '#root', attrs: {}, text: '', children: [] };
  const stack: Element[] = [root];
  const tag = /<(\/?)([A-Za-z][\w.-]*)((?:\s+[A-Za-z][\w.-]*="[^"<]*")*)\s*(\/?)>/y;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt === -1 ? xml.length : lt);
    if (/&(?!(#\d+|#x[0-9a-fA-F]+|\w+);)/.test(text) || text.includes('>')) throw new Error(`bad text: ${text}`);
    stack[stack.length - 1]!.text += unescape(text);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([A-Za-z][\w.-]*)="([^"]*)"/g)) {
        if (a[2]!.includes('>') || a[2]!.includes("'")) throw new Error(`unescaped character in attribute ${a[1]}`);
        attrs[a[1]!] = unescape(a[2]!);
      }
      const el: Element = { name: name!, attrs, text: '', children: [] };
      stack[stack.length - 1]!.children.push(el);
      if (!selfClose) stack.push(el);
    }
    pos = tag.lastIndex;
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  const [doc] = root.children;
  if (!doc || root.children.length !== 1) throw new Error('expected one root element');
  return doc;
}

describe('formatJunit', () => {
  it('is well-formed XML: one suite per artifact, one testcase each, a failure per finding, an errors suite', () => {
    const doc = parseXml(formatJunit(goldenInput()));
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '5', failures: '3', errors: '2' });
    const suites = doc.children;
    expect(suites.map((s) => s.attrs.name)).toEqual([
      'dist/app/config.js',
      'dist/bundle.zip',
      'dist/we<i>rd & "q\'uote", 100%: #1.tgz',
      'pubguard errors',
    ]);
    for (const suite of suites.slice(0, 3)) {
      expect(suite.children).toHaveLength(1);
      expect(suite.children[0]!.attrs.name).toBe(suite.attrs.name);
    }
    const failures = suites[0]!.children[0]!.children;
    expect(failures.map((f) => [f.name, f.attrs.type])).toEqual([
      ['failure', 'github-classic-token'],
      ['failure', 'aws-access-key-id'],
    ]);
    expect(failures[0]!.attrs.message).toBe('GitHub personal access token (critical) at dist/app/config.js:12:5');
    const errors = suites[3]!.children.map((c) => [c.attrs.name, c.children[0]!.name, c.children[0]!.attrs.type]);
    expect(errors).toEqual([
      ['dist/bomb.tgz!package/huge.bin', 'error', 'limit'],
      ['dist/broken.whl', 'error', 'corrupt'],
    ]);
  });

  it('escapes <>&"\' and newlines so they read back exactly; control characters become visible escapes', () => {
    const doc = parseXml(formatJunit(goldenInput()));
    const weird = doc.children[2]!.children[0]!.children[0]!;
    expect(weird.attrs.message).toBe(
      'GitHub personal access token (critical) at dist/we<i>rd & "q\'uote", 100%: #1.tgz!package/evil\nname\\x07\\x1b[31m.js:2:9',
    );
    expect(weird.text).toContain('location: dist/we<i>rd & "q\'uote", 100%: #1.tgz!package/evil\nname\\x07\\x1b[31m.js:2:9');
  });

  it('replaces lone surrogates and U+FFFF, which XML cannot carry', () => {
    const input = emptyInput();
    input.findings = [finding('a\ud800b\uffff.js', [], 1, 1, RULES[0]!, 'label-surrogate')];
    const doc = parseXml(formatJunit(input));
    expect(doc.children[0]!.attrs.name).toBe('a\\u{d800}b\\u{ffff}.js');
  });

  it('shows a clean scan as one passing testcase', () => {
    const doc = parseXml(formatJunit(emptyInput()));
    expect(doc.attrs).toMatchObject({ tests: '1', failures: '0', errors: '0' });
    expect(doc.children).toHaveLength(1);
    expect(doc.children[0]!.children[0]).toMatchObject({ name: 'testcase', children: [] });
    expect(doc.children[0]!.children[0]!.attrs.name).toBe('1 artifact scanned');
  });

  it('leaves out the secret line for a finding without a secret value', () => {
    const input = emptyInput();
    input.findings = [{ ...finding('dist/a.tgz', ['package/.env'], 1, 1, RULES[0]!, 'label-path'), secret: '' }];
    const xml = formatJunit(input);
    expect(xml).not.toContain('secret:');
    expect(xml).toContain('Remove it from the artifact and rebuild');
    expect(formatJunit(goldenInput())).toContain('secret: ghp_');
  });
});
