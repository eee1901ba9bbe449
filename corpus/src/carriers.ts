import { Buffer } from 'node:buffer';
import { CorpusError } from './errors.js';
import { Prng } from './prng.js';

/**
 * A text to embed verbatim, and which part of it is the secret. Rule examples often carry
 * context (`password = "…"`, an `.npmrc` line); the secret is the part a scanner reports.
 */
export interface Plant {
  text: string;
  /** Start of the secret in `text` (UTF-16 index); default 0. */
  secretStart?: number;
  /** End of the secret in `text` (exclusive); default `text.length`. */
  secretEnd?: number;
  /**
   * The text must start a line and end one (it is a whole config line, or a rule anchors on
   * `^`/`$`); carriers that only quote values refuse it.
   */
  ownLine?: boolean;
}

/** A plain string is planted whole and is the secret itself. */
export type PlantInput = string | Plant;

/** Where a secret ended up in a carrier file: 1-based line and column (in bytes), 0-based byte offset. */
export interface PlantedSecret {
  secret: string;
  line: number;
  column: number;
  byteOffset: number;
}

/** A generated file and the secrets planted in it. */
export interface CarrierFile {
  path: string;
  content: Uint8Array;
  planted: PlantedSecret[];
}

/** Options every carrier takes. */
export interface CarrierOptions {
  /** Path of the file (relative, `/`-separated); each carrier has a realistic default. */
  path?: string;
  /** Seed for the filler; default 1. */
  seed?: number;
}

function normalise(input: PlantInput): Required<Plant> {
  const plant = typeof input === 'string' ? { text: input } : input;
  const secretStart = plant.secretStart ?? 0;
  const secretEnd = plant.secretEnd ?? plant.text.length;
  if (secretStart < 0 || secretEnd > plant.text.length || secretStart >= secretEnd) {
    throw new CorpusError(`plant has an empty or out-of-range secret span [${secretStart}, ${secretEnd}) in a text of ${plant.text.length} chars`);
  }
  return { text: plant.text, secretStart, secretEnd, ownLine: plant.ownLine ?? false };
}

/** True when `text` can sit inside a JSON/JS/YAML double-quoted string without any escaping. */
export function canEmbedInline(text: string): boolean {
  return text.length > 0 && JSON.stringify(text) === `"${text}"` && !/[\u2028\u2029]/.test(text);
}

function requireInline(p: Required<Plant>, carrier: string): void {
  if (p.ownLine) throw new CorpusError(`${carrier} embeds secrets inside quoted strings, not on a line of their own`);
  if (!canEmbedInline(p.text)) {
    throw new CorpusError(`${carrier} embeds secrets in quoted strings: this text needs escaping (quotes, backslashes or line breaks), so it would not appear verbatim`);
  }
}

/**
 * 1-based line and column (in bytes) of `byteOffset` in `bytes`, lines ending at LF, at a CR
 * that no LF follows, or at CR LF (one end), as editors count them.
 */
export function lineColumnAt(bytes: Uint8Array, byteOffset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < byteOffset; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: byteOffset - lineStart + 1 };
}

/** Assembles a file from pieces and records the byte offset of each planted secret. */
class FileBuilder {
  private readonly parts: Buffer[] = [];
  private length = 0;
  private readonly secrets: { secret: string; byteOffset: number }[] = [];

  get size(): number {
    return this.length;
  }

  text(text: string): this {
    return this.bytes(Buffer.from(text, 'utf8'));
  }

  bytes(bytes: Uint8Array): this {
    const buf = Buffer.from(bytes);
    this.parts.push(buf);
    this.length += buf.length;
    return this;
  }

  plant(input: PlantInput): this {
    const p = normalise(input);
    const byteOffset = this.length + Buffer.byteLength(p.text.slice(0, p.secretStart), 'utf8');
    this.secrets.push({ secret: p.text.slice(p.secretStart, p.secretEnd), byteOffset });
    return this.text(p.text);
  }

  build(path: string): CarrierFile {
    const content = Buffer.concat(this.parts);
    const planted = this.secrets.map(({ secret, byteOffset }) => ({ secret, byteOffset, ...lineColumnAt(content, byteOffset) }));
    return { path, content, planted };
  }
}

function list(inputs: PlantInput | readonly PlantInput[]): Required<Plant>[] {
  return (Array.isArray(inputs) ? inputs : [inputs]).map((i: PlantInput) => normalise(i));
}

const WORDS = ['items', 'config', 'result', 'handler', 'options', 'values', 'buffer', 'entry', 'record', 'status', 'request', 'payload', 'index', 'count', 'limit', 'offset', 'widget', 'render', 'layout', 'cache'];

function pyFunction(rng: Prng, n: number): string {
  const a = rng.pick(WORDS);
  const b = rng.pick(WORDS);
  return [
    `def ${a}_${n}(${b}, limit=${rng.int(1, 99)}):`,
    `    """Return the first ${a} of ${b}, at most limit of them."""`,
    `    out = []`,
    `    for item in ${b}:`,
    `        if len(out) >= limit:`,
    `            break`,
    `        out.append(item)`,
    `    return out`,
    '',
    '',
  ].join('\n');
}

/** A Python module with each secret assigned to a module constant. */
export function pythonModule(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const f = new FileBuilder();
  f.text('"""Settings and helpers for the upstream client."""\nfrom __future__ import annotations\n\nimport logging\nimport os\n\nlog = logging.getLogger(__name__)\n\nDEFAULT_TIMEOUT = 30\nRETRIES = 3\n\n');
  list(inputs).forEach((p, i) => {
    f.text(pyFunction(rng, i));
    if (canEmbedInline(p.text) && !p.ownLine) {
      f.text(`UPSTREAM_${i} = "`).plant(p).text('"\n\n\n');
    } else {
      const quote = p.text.includes('"""') ? "'''" : '"""';
      if (p.text.includes(quote)) throw new CorpusError('pythonModule cannot embed a text containing both """ and \'\'\'');
      f.text(`UPSTREAM_${i} = r${quote}\n`).plant(p).text(`\n${quote}\n\n\n`);
    }
  });
  f.text(pyFunction(rng, 99));
  return f.build(options.path ?? 'upstream/settings.py');
}

function jsFunction(rng: Prng, n: number): string {
  const a = rng.pick(WORDS);
  const b = rng.pick(WORDS);
  return `export function ${a}${n}(${b}, limit = ${rng.int(1, 99)}) {\n  // Bounded copy: callers pass user-sized lists.\n  return ${b}.slice(0, limit).map((x) => x.${rng.pick(WORDS)});\n}\n\n`;
}

/** An ES module with each secret in an exported constant. */
export function jsModule(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const f = new FileBuilder();
  f.text("'use strict';\n\nimport { request } from './http.js';\n\nconst DEFAULT_TIMEOUT = 30_000;\n\n");
  list(inputs).forEach((p, i) => {
    f.text(jsFunction(rng, i));
    if (canEmbedInline(p.text) && !p.ownLine) {
      f.text(`export const upstream${i} = "`).plant(p).text('";\n\n');
    } else if (!p.text.includes('`') && !p.text.includes('${')) {
      f.text(`export const upstream${i} = String.raw\`\n`).plant(p).text('\n`;\n\n');
    } else if (!p.text.includes('*/')) {
      f.text('/*\n').plant(p).text('\n*/\n\n');
    } else {
      throw new CorpusError('jsModule cannot embed a text containing a backtick or ${ together with */');
    }
  });
  f.text(jsFunction(rng, 99));
  f.text('export default { timeout: DEFAULT_TIMEOUT, request };\n');
  return f.build(options.path ?? 'lib/upstream.js');
}

function ident(rng: Prng): string {
  return rng.string('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 1) + rng.string('abcdefghijklmnopqrstuvwxyz0123456789', rng.int(0, 2));
}

function minifiedStatement(rng: Prng): string {
  const a = ident(rng);
  const b = ident(rng);
  const c = ident(rng);
  switch (rng.int(0, 5)) {
    case 0:
      return `function ${a}(${b},${c}){return ${b}.map(function(e){return e*${c}+${rng.int(0, 9)}})}`;
    case 1:
      return `var ${a}={${rng.pick(WORDS)}:"${rng.pick(WORDS)}",${rng.pick(WORDS)}:[${rng.int(0, 99)},${rng.int(0, 99)},${rng.int(0, 99)}]};`;
    case 2:
      return `if(${a}&&${b}.length>${rng.int(1, 9)}){${c}.push(${b})}`;
    case 3:
      return `${a}.prototype.${rng.pick(WORDS)}=function(){return this.${rng.pick(WORDS)}||null};`;
    case 4:
      return `for(var ${a}=0;${a}<${b}.length;${a}++)${c}+=${b}[${a}];`;
    default:
      return `${a}=${b}?${c}:void 0;`;
  }
}

/**
 * A minified bundle: one line of `size` bytes (default ~300 KB) of generated JS, the secrets
 * spread over its second half, then a sourceMappingURL comment on line 2.
 */
export function minifiedBundle(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions & { size?: number } = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const size = options.size ?? 300 * 1024;
  const plants = list(inputs);
  for (const p of plants) requireInline(p, 'minifiedBundle');
  const path = options.path ?? 'dist/app.min.js';
  const f = new FileBuilder();
  f.text('!function(){"use strict";');
  plants.forEach((p, i) => {
    // Deep inside: from half the bundle on, evenly spaced.
    const at = Math.floor(size * (0.5 + (0.4 * (i + 1)) / (plants.length + 1)));
    while (f.size < at) f.text(minifiedStatement(rng));
    f.text(`var u${i}="`).plant(p).text('";');
  });
  while (f.size < size) f.text(minifiedStatement(rng));
  f.text(`}();\n//# sourceMappingURL=${path.split('/').pop() ?? 'app.min.js'}.map\n`);
  return f.build(path);
}

function vlqMappings(rng: Prng, lines: number): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const segs: string[] = [];
    for (let s = rng.int(1, 6); s > 0; s--) segs.push(rng.string(chars, 4));
    out.push(segs.join(','));
  }
  return out.join(';');
}

/**
 * A source map whose `sourcesContent` holds the original module with the secrets, JSON-escaped
 * as bundlers write it (the secret itself needs no escaping, so it appears verbatim).
 */
export function sourceMap(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const plants = list(inputs);
  for (const p of plants) requireInline(p, 'sourceMap');
  const esc = (s: string) => JSON.stringify(s).slice(1, -1);
  const f = new FileBuilder();
  f.text('{"version":3,"file":"app.min.js","sources":["../src/util.ts","../src/upstream.ts"],"sourcesContent":["');
  f.text(esc(`export function clamp(n: number, lo: number, hi: number): number {\n  return Math.min(hi, Math.max(lo, n));\n}\n`));
  f.text('","');
  f.text(esc(`import { clamp } from './util';\n\n// Upstream endpoints and their fixed parameters.\n`));
  plants.forEach((p, i) => {
    f.text(esc(`export const timeout${i} = clamp(${rng.int(1, 99)}, 1, 60);\nexport const upstream${i} = "`));
    f.plant(p);
    f.text(esc(`";\n\n`));
  });
  f.text(`"],"names":["clamp","n","lo","hi"],"mappings":"${vlqMappings(rng, 40 + plants.length * 3)}"}`);
  return f.build(options.path ?? 'dist/app.min.js.map');
}

/** A `.env` file: each secret on its own `NAME=value` line (or as given, when it is already an assignment). */
export function envFile(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const f = new FileBuilder();
  f.text('# Local settings for the upstream client\nNODE_ENV=production\nPORT=8080\nLOG_LEVEL=info\n\n');
  list(inputs).forEach((p, i) => {
    if (/[\r\n]/.test(p.text)) throw new CorpusError('envFile holds one value per line: this text spans lines');
    if (p.ownLine || /^[A-Za-z_][A-Za-z0-9_.]*\s*=/.test(p.text)) f.plant(p).text('\n');
    else f.text(`UPSTREAM_${i}=`).plant(p).text('\n');
  });
  f.text('CACHE_DIR=/var/cache/upstream\n');
  return f.build(options.path ?? '.env');
}

/** A pretty-printed JSON settings file with each secret as a string value. */
export function jsonFile(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const plants = list(inputs);
  for (const p of plants) requireInline(p, 'jsonFile');
  const f = new FileBuilder();
  f.text('{\n  "name": "upstream-client",\n  "version": "1.4.2",\n  "retries": 3,\n  "upstream": {\n    "endpoint": "https://api.example.invalid/v1"');
  plants.forEach((p, i) => f.text(`,\n    "value${i}": "`).plant(p).text('"'));
  f.text('\n  },\n  "features": ["cache", "metrics"]\n}\n');
  return f.build(options.path ?? 'config/settings.json');
}

/** A YAML settings file with each secret as a double-quoted scalar. */
export function yamlFile(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const plants = list(inputs);
  for (const p of plants) requireInline(p, 'yamlFile');
  const f = new FileBuilder();
  f.text('# Deployment settings\nservice:\n  name: upstream-client\n  replicas: 2\n  ports:\n    - 8080\nupstream:\n  endpoint: https://api.example.invalid/v1\n');
  plants.forEach((p, i) => f.text(`  value${i}: "`).plant(p).text('"\n'));
  f.text('logging:\n  level: info\n');
  return f.build(options.path ?? 'config/deploy.yaml');
}

/** A Jupyter notebook (nbformat 4, indented as Jupyter writes it) with each secret in a code cell. */
export function notebook(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const plants = list(inputs);
  for (const p of plants) requireInline(p, 'notebook');
  const f = new FileBuilder();
  f.text('{\n "cells": [\n  {\n   "cell_type": "markdown",\n   "metadata": {},\n   "source": [\n    "# Upstream exploration\\n",\n    "Pull a sample and plot it."\n   ]\n  },\n');
  f.text('  {\n   "cell_type": "code",\n   "execution_count": 1,\n   "metadata": {},\n   "outputs": [],\n   "source": [\n    "import os\\n",\n    "import json\\n",\n');
  plants.forEach((p, i) => f.text(`    "upstream_${i} = \\"`).plant(p).text('\\"\\n",\n'));
  f.text('    "print(len(os.listdir(\'.\')))"\n   ]\n  }\n ],\n "metadata": {\n  "kernelspec": {\n   "display_name": "Python 3",\n   "language": "python",\n   "name": "python3"\n  }\n },\n "nbformat": 4,\n "nbformat_minor": 5\n}\n');
  return f.build(options.path ?? 'notebooks/explore.ipynb');
}

/** Random bytes that never form printable ASCII, so filler cannot spell a keyword by chance. */
function opaqueBytes(rng: Prng, length: number): Uint8Array {
  const out = rng.bytes(length);
  for (let i = 0; i < out.length; i++) {
    const b = out[i] ?? 0;
    if (b >= 0x21 && b <= 0x7e) out[i] = b | 0x80;
  }
  return out;
}

/**
 * A binary blob shaped like a CPython 3.11 `.pyc`: header, opaque bytecode and each secret
 * as a marshalled str constant (raw bytes, NUL-bounded length prefix).
 */
export function binaryBlob(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const f = new FileBuilder();
  const header = Buffer.alloc(16);
  header.set([0xa7, 0x0d, 0x0d, 0x0a]);
  header.writeUInt32LE(1_704_164_646, 8);
  header.writeUInt32LE(2_048, 12);
  f.bytes(header).bytes(Uint8Array.of(0xe3)).bytes(opaqueBytes(rng, 200));
  for (const name of ['os', 'logging', 'load_settings', 'DEFAULT_TIMEOUT']) {
    f.bytes(Uint8Array.of(0xda, name.length)).text(name).bytes(opaqueBytes(rng, rng.int(20, 80)));
  }
  for (const p of list(inputs)) {
    // A line-anchored text is stored with a newline on each side, inside the same constant.
    const nl = p.ownLine ? '\n' : '';
    const len = Buffer.alloc(5);
    len[0] = 0x75; // marshal TYPE_UNICODE
    len.writeUInt32LE(Buffer.byteLength(p.text, 'utf8') + 2 * nl.length, 1);
    f.bytes(len).text(nl).plant(p).text(nl).bytes(Uint8Array.of(0xda)).bytes(opaqueBytes(rng, rng.int(300, 900)));
  }
  return f.build(options.path ?? 'upstream/__pycache__/settings.cpython-311.pyc');
}

/**
 * A text file where the secret straddles byte `boundary` (default 65536 = 64 KiB, a common
 * read size): it starts before the boundary and ends after it.
 */
export function straddleFile(input: PlantInput, options: CarrierOptions & { boundary?: number } = {}): CarrierFile {
  const rng = new Prng(options.seed ?? 1);
  const boundary = options.boundary ?? 65536;
  const p = normalise(input);
  const secretBytes = Buffer.byteLength(p.text.slice(p.secretStart, p.secretEnd), 'utf8');
  if (secretBytes < 2) throw new CorpusError('straddleFile needs a secret of at least 2 bytes to straddle a boundary');
  const lead = p.ownLine ? '' : 'upstream = ';
  const secretAt = boundary - Math.floor(secretBytes / 2);
  const lineStart = secretAt - Buffer.byteLength(p.text.slice(0, p.secretStart), 'utf8') - lead.length;
  if (lineStart < 0) throw new CorpusError(`straddleFile: the text before the secret is too long for a boundary at ${boundary}`);
  const f = new FileBuilder();
  const logLine = () =>
    `2024-01-02T03:${String(rng.int(0, 59)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}Z INFO worker-${rng.int(1, 8)} processed ${rng.pick(WORDS)} batch ${rng.int(1, 99_999)} in ${rng.int(1, 999)} ms\n`;
  for (;;) {
    const line = logLine();
    if (f.size + line.length > lineStart - 1) break;
    f.text(line);
  }
  const gap = lineStart - f.size;
  if (gap > 0) f.text(`${'#'.repeat(gap - 1)}\n`);
  f.text(lead).plant(p).text('\n');
  for (let i = 0; i < 40; i++) f.text(logLine());
  return f.build(options.path ?? 'logs/worker.log');
}

/** A plain line-oriented config file (`.npmrc`, `.pypirc`, a key file): each text on lines of its own. */
export function configFile(inputs: PlantInput | readonly PlantInput[], options: CarrierOptions = {}): CarrierFile {
  const f = new FileBuilder();
  f.text('# generated configuration\n');
  for (const p of list(inputs)) f.plant(p).text('\n');
  return f.build(options.path ?? 'config/settings.conf');
}
