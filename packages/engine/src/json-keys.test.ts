import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKey } from './json-keys.js';

/** The duplicate found in `text`, which must be JSON that JSON.parse takes. */
function dup(text: string) {
  expect(() => JSON.parse(text.replace(/^\ufeff/, ''))).not.toThrow();
  return findDuplicateJsonKey(text);
}

describe('findDuplicateJsonKey', () => {
  it('finds nothing in JSON without a repeated key', () => {
    for (const text of ['{}', '[]', '1', '"a"', 'null', '{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}', '{"a":"}\\"{","b":"\\\\"}', '[{"x":1},{"x":2}]', '{"a":{},"b":[]}']) {
      expect(dup(text), text).toBeUndefined();
    }
  });

  it('names the key path and the lines of both occurrences', () => {
    const policy = '{\n  "version": 1,\n  "rule": { "minApprovers": 2 },\n  "rule": { "minApprovers": 1 }\n}\n';
    expect(dup(policy)).toEqual({ path: 'rule', key: 'rule', line: 4, column: 3, firstLine: 3 });
    expect(dup('{"approvers": {\n"alice": {"keys": []},\n"alice": {"keys": []}}}')).toMatchObject({ path: 'approvers.alice', line: 3, column: 1, firstLine: 2 });
    expect(dup('{"rule": {"minApprovers": 2,\r\n"groups": {}, "minApprovers": 1}}')).toMatchObject({ path: 'rule.minApprovers', line: 2, column: 15, firstLine: 1 });
    expect(dup('{"findings": [{"fingerprint": "a"}, {"fingerprint": "b", "fingerprint": "c"}]}')).toMatchObject({ path: 'findings[1].fingerprint' });
    expect(dup('[[1], {"a": [{}, {"b": 1, "b": 2}]}]')).toMatchObject({ path: '[1].a[1].b' });
  });

  it('compares keys as JSON.parse decodes them', () => {
    expect(dup('{"a": 1, "\\u0061": 2}')).toMatchObject({ key: 'a', path: 'a' });
    expect(dup('{"\\"x": 1, "\\u0022x": 2}')).toMatchObject({ key: '"x' });
    expect(dup('{"\\ud83d\\ude00": 1, "\u{1F600}": 2}')).toMatchObject({ key: '\u{1F600}' });
    expect(dup('{"a\\/b": 1, "a/b": 2}')).toMatchObject({ key: 'a/b', path: '["a/b"]' });
    expect(dup('{"a\\\\": 1, "a\\\\\\\\": 2}')).toBeUndefined();
    expect(dup('{"A": 1, "a": 2}')).toBeUndefined();
    // Not the same key, though JSON.parse takes both: one is followed by an escaped quote.
    expect(dup('{"a": "\\"a\\": 1", "b": 2}')).toBeUndefined();
  });

  it('does not take a string value for a key', () => {
    expect(dup('{"a": "b", "b": "a"}')).toBeUndefined();
    expect(dup('{"a": ["a", "a"], "c": {"a": "a"}}')).toBeUndefined();
  });

  it('quotes a key a dotted path could not show, and shortens a very long one', () => {
    expect(dup('{"approvers": {"a.b": {}, "a.b": {}}}')?.path).toBe('approvers["a.b"]');
    expect(dup('{"": 1, "": 2}')?.path).toBe('[""]');
    const long = 'k'.repeat(500);
    expect(dup(`{"${long}": 1, "${long}": 2}`)?.path).toBe(`["${'k'.repeat(59)}…"]`);
  });

  it('skips a BOM and counts columns after it', () => {
    expect(dup('\ufeff{"a": 1, "a": 2}')).toMatchObject({ line: 1, column: 10 });
  });

  it('takes nesting as deep as JSON.parse does without running out of stack', () => {
    const depth = 200_000;
    const text = `${'['.repeat(depth)}{"a":1,"a":2}${']'.repeat(depth)}`;
    let parsed = true;
    try {
      JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed) expect(findDuplicateJsonKey(text)?.key).toBe('a');
    const deep = findDuplicateJsonKey(`${'{"x":'.repeat(50_000)}{"a":1,"a":2}${'}'.repeat(50_000)}`);
    expect(deep?.firstLine).toBe(1);
    expect(deep?.path).toBe(`…${'x.'.repeat(99)}a`);
  });
});
