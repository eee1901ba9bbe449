import { Buffer } from 'node:buffer';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type CompiledRule, type RuleDefinition, acceptCandidate, builtinRuleDefinitions, compileRules, dropOverlapping, pathFindingTarget, ruleAppliesToPath } from '@pubguard/rules';
import picomatch from 'picomatch';
import { gzipBuffer } from './archive.js';
import {
  type CarrierFile,
  type Plant,
  binaryBlob,
  canEmbedInline,
  configFile,
  envFile,
  jsModule,
  jsonFile,
  lineColumnAt,
  minifiedBundle,
  notebook,
  pythonModule,
  sourceMap,
  straddleFile,
  yamlFile,
} from './carriers.js';
import { decoys } from './decoys.js';
import { npmTarball, sdist, sdistFileName, wheel, wheelFileName } from './packagers.js';

/** A finding the scanner must report, with `path` as it prints it when run from `outDir`. */
export interface ExpectedFinding {
  ruleId: string;
  /** Artifact path relative to outDir, then archive members, joined with `!`. */
  path: string;
  line: number;
  column: number;
  /** 0-based byte offset of the secret in the innermost file. */
  byteOffset: number;
  /** Bytes of the secret; 0 for rules that report a file by its path. */
  byteLength: number;
  /** Set when another rule's example holds this secret too (an AWS key pair example also has a key id). */
  plantedFor?: string;
}

/** A rule none of whose examples could be planted, and why. */
export interface SkippedRule {
  ruleId: string;
  reason: string;
}

/** What `generateAcceptanceSet` wrote, as saved in `manifest.json`. */
export interface AcceptanceManifest {
  generator: '@pubguard/corpus';
  version: 1;
  seed: number;
  secrets: boolean;
  /** The top-level inputs written (relative to outDir): pass them to `pubguard scan` from outDir. */
  artifacts: string[];
  /** Every finding expected; empty for the decoy set. */
  findings: ExpectedFinding[];
  /** Rules not exercised (path-only rules, examples the rule itself does not report). */
  skipped: SkippedRule[];
  /** Decoy kinds planted (decoy set only). */
  decoys: string[];
}

/** Options of `generateAcceptanceSet`. */
export interface AcceptanceOptions {
  /** true: planted secrets from the rules' examples; false: the same tree with decoys. */
  secrets: boolean;
  /** PRNG seed for everything random (filler, decoys); default 1. */
  seed?: number;
  /** Rules whose examples are planted; default the built-in rules. */
  rules?: RuleDefinition[];
}

/** A text to plant and the rule that must report it (none for a decoy). */
interface Item extends Required<Plant> {
  ruleId?: string;
  placeholder: boolean;
  /** For a rule limited to some paths: the file (below `src/`) it must be planted in. */
  pathBound?: string;
}

type CarrierKind = 'py' | 'js' | 'env' | 'json' | 'yaml' | 'notebook' | 'binary' | 'minified' | 'sourcemap';

interface Slot {
  kind: CarrierKind;
  /** Which artifact the file goes into (see `layout()`). */
  id: string;
  /** Path of the file inside that artifact. */
  path: string;
  items: Item[];
}

/** True when a regex source has `^` or `$` outside a character class: the text must start/end a line. */
export function isLineAnchored(source: string): boolean {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
    } else if (c === '^' || c === '$') {
      return true;
    }
  }
  return false;
}

/**
 * Every secret the rule reports in `text`: the span of its secret group in each match that
 * `acceptCandidate` accepts, ending where the accepted secret ends (a capture running into
 * binary data is cut back, as the engine does).
 */
function* acceptedSpans(rule: CompiledRule, text: string): Generator<{ start: number; end: number }> {
  if (!rule.source) return;
  const re = new RegExp(rule.source, `${rule.flags.replace(/[gdy]/g, '')}gd`);
  for (const m of text.matchAll(re)) {
    const span = m.indices?.[rule.secretGroup];
    const secret = m[rule.secretGroup];
    if (!span || !secret) continue;
    const verdict = acceptCandidate(rule, secret, m[0]);
    if (verdict.ok) yield { start: span[0], end: span[0] + verdict.secret.length };
  }
}

/** Finds where the rule reports a secret in `text`: the first span of `acceptedSpans`. */
export function locateSecret(rule: CompiledRule, text: string): { start: number; end: number } | undefined {
  for (const span of acceptedSpans(rule, text)) return span;
  return undefined;
}

/**
 * A file path (below `src/`) that the rule's path globs accept, derived from the globs
 * themselves: `**\/.npmrc` gives `<rule-id>/.npmrc`, `**\/*.pem` gives `<rule-id>/fixture.pem`.
 */
export function pathForGlobs(ruleId: string, include: readonly string[], exclude: readonly string[] = []): string | undefined {
  const accepts = (path: string): boolean =>
    include.some((g) => picomatch(g, { dot: true })(path)) && !exclude.some((g) => picomatch(g, { dot: true })(path));
  for (const glob of include) {
    const last = glob.split('/').pop() ?? '';
    const name = last
      .replace(/\{([^,}]*)[^}]*\}/g, '$1')
      .replace(/\[([^\]])[^\]]*\]/g, '$1')
      .replace(/\*+/g, 'fixture')
      .replace(/\?/g, 'x');
    if (!name || name.includes('!')) continue;
    const path = `${ruleId}/${name}`;
    // Both as seen below the scanned directory and from outDir, so the engine's choice of base does not matter.
    if (accepts(path) && accepts(`src/${path}`)) return path;
  }
  return undefined;
}

/** Every other rule that reports something inside `item.text`: where, relative to the text. */
function alsoReported(item: Item, rules: Iterable<CompiledRule>, path: string): { ruleId: string; start: number; end: number }[] {
  const out: { ruleId: string; start: number; end: number }[] = [];
  const inner = path.split('!').pop() ?? path;
  for (const rule of rules) {
    if (rule.id === item.ruleId || !rule.source) continue;
    // A rule limited to some paths runs only in files those paths accept.
    if (!ruleAppliesToPath(rule, inner)) continue;
    for (const span of acceptedSpans(rule, item.text)) out.push({ ruleId: rule.id, ...span });
  }
  return out;
}

/** Path-only rules (globs and no pattern) among the definitions, compiled. */
function pathOnlyRules(defs: readonly RuleDefinition[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  for (const def of defs) {
    if (def.pattern || !def.paths?.length) continue;
    try {
      const rule = compileRules([def]).rules[0];
      if (rule) out.push(rule);
    } catch {
      // A rule that does not compile is reported by `ruleItems` already.
    }
  }
  return out;
}

/** True when the rule reports a secret starting exactly at `offset` of `text` (latin1, as the engine reads bytes). */
function reportsAt(rule: CompiledRule, text: string, offset: number): boolean {
  for (const span of acceptedSpans(rule, text)) if (span.start === offset) return true;
  return false;
}

function ruleItems(defs: RuleDefinition[]): { items: Item[]; skipped: SkippedRule[]; compiled: Map<string, CompiledRule> } {
  const first: Item[] = [];
  const second: Item[] = [];
  const skipped: SkippedRule[] = [];
  const compiled = new Map<string, CompiledRule>();
  for (const def of defs) {
    let rule: CompiledRule | undefined;
    try {
      rule = compileRules([def]).rules[0];
    } catch (error) {
      skipped.push({ ruleId: def.id, reason: `does not compile: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    if (!rule) continue;
    // Path-only rules are planted as files of their own by `generateAcceptanceSet`.
    if (!rule.source) continue;
    compiled.set(def.id, rule);
    const ownLine = isLineAnchored(rule.source);
    let pathBound: string | undefined;
    if (rule.paths?.length) {
      pathBound = pathForGlobs(def.id, rule.paths, rule.pathsExclude);
      if (!pathBound) {
        skipped.push({ ruleId: def.id, reason: `no file name to derive from its paths ${JSON.stringify(rule.paths)}` });
        continue;
      }
    }
    const planted = def.examples.slice(0, 2).map((text, i) => {
      const span = locateSecret(rule, text);
      if (!span) {
        if (i === 0) skipped.push({ ruleId: def.id, reason: 'examples[0] is not reported by the rule itself' });
        return undefined;
      }
      const item: Item = { text, secretStart: span.start, secretEnd: span.end, ownLine, ruleId: def.id, placeholder: false };
      if (pathBound) {
        const bound = i === 0 ? pathBound : pathForGlobs(`${def.id}/second`, rule.paths ?? [], rule.pathsExclude);
        if (!bound) return undefined;
        item.pathBound = bound;
      }
      return item;
    });
    if (planted[0]) first.push(planted[0]);
    if (planted[1]) second.push(planted[1]);
  }
  return { items: [...first, ...second], skipped, compiled };
}

const INLINE_ONLY: ReadonlySet<CarrierKind> = new Set(['json', 'yaml', 'notebook', 'minified', 'sourcemap']);

function fits(slot: Slot, item: Item, secrets: boolean): boolean {
  if (INLINE_ONLY.has(slot.kind)) return !item.ownLine && canEmbedInline(item.text);
  // A high-entropy decoy as a .env value is a real finding for generic rules: only placeholders go there.
  if (slot.kind === 'env') return !/[\r\n]/.test(item.text) && (secrets || item.placeholder);
  return true;
}

const NPM = { name: 'acme-widgets', version: '1.0.0' };
const PY = { name: 'acme-tools', version: '1.0.0' };
const NESTED = { name: 'acme-bundle', version: '2.0.0' };
const INNER = { name: 'acme-inner', version: '0.3.0' };

function layout(secrets: boolean): Slot[] {
  const slot = (id: string, kind: CarrierKind, path: string): Slot => ({ id, kind, path, items: [] });
  return [
    slot('dir', 'py', 'acme_tools/settings.py'),
    slot('dir', 'js', 'web/upstream.js'),
    // A real `.env` must not ship; its committed template may, so decoys live in one.
    slot('dir', 'env', secrets ? '.env' : '.env.example'),
    slot('dir', 'json', 'config/settings.json'),
    slot('dir', 'yaml', 'config/deploy.yaml'),
    slot('dir', 'notebook', 'notebooks/explore.ipynb'),
    slot('dir', 'binary', 'acme_tools/__pycache__/settings.cpython-311.pyc'),
    slot('npm', 'js', 'lib/upstream.js'),
    slot('npm', 'json', 'config/settings.json'),
    slot('npm', 'binary', 'prebuilds/linux-x64/upstream.node'),
    slot('wheel', 'py', 'acme_tools/settings.py'),
    slot('wheel', 'binary', 'acme_tools/__pycache__/settings.cpython-311.pyc'),
    slot('sdist', 'py', 'acme_tools/settings.py'),
    slot('sdist', 'yaml', 'config/deploy.yaml'),
    slot('nested', 'py', 'acme_inner/settings.py'),
    slot('gz', 'py', 'settings.py'),
    slot('bin', 'py', 'acme_tools/settings.py'),
    slot('bin', 'notebook', 'acme_tools/notebooks/explore.ipynb'),
    slot('bundle', 'minified', 'app.min.js'),
    slot('bundle', 'sourcemap', 'app.min.js.map'),
  ];
}

function assign(slots: Slot[], items: Item[], secrets: boolean): void {
  let next = 0;
  for (const item of items) {
    for (let tries = 0; tries < slots.length; tries++) {
      const slot = slots[(next + tries) % slots.length];
      if (slot && fits(slot, item, secrets)) {
        slot.items.push(item);
        next = (next + tries + 1) % slots.length;
        break;
      }
    }
  }
  // Every file carries something, even with few rules: reuse the first texts that fit.
  for (const slot of slots) {
    if (slot.items.length > 0) continue;
    const filler = items.find((item) => fits(slot, item, secrets));
    if (filler) slot.items.push(filler);
  }
}

function build(slot: Slot, seed: number): CarrierFile {
  const options = { path: slot.path, seed };
  switch (slot.kind) {
    case 'py':
      return pythonModule(slot.items, options);
    case 'js':
      return jsModule(slot.items, options);
    case 'env':
      return envFile(slot.items, options);
    case 'json':
      return jsonFile(slot.items, options);
    case 'yaml':
      return yamlFile(slot.items, options);
    case 'notebook':
      return notebook(slot.items, options);
    case 'binary':
      return binaryBlob(slot.items, options);
    case 'minified':
      return minifiedBundle(slot.items, options);
    case 'sourcemap':
      return sourceMap(slot.items, options);
  }
}

/** A file to write below outDir. */
interface Written {
  path: string;
  bytes: Uint8Array;
}

/**
 * Writes the acceptance artifacts under `outDir` (a source directory, npm
 * tgz, wheel, sdist, wheel inside a tgz, single .gz, wheel renamed .bin, minified bundle,
 * source map, 64 KiB straddle file) and `manifest.json` with the findings a scanner must
 * report. With `secrets: false` the same tree holds decoys and no finding is expected.
 */
export async function generateAcceptanceSet(outDir: string, options: AcceptanceOptions): Promise<AcceptanceManifest> {
  const seed = options.seed ?? 1;
  const defs = options.rules ?? builtinRuleDefinitions();
  const slots = layout(options.secrets);
  let items: Item[];
  let skipped: SkippedRule[] = [];
  let compiled = new Map<string, CompiledRule>();
  const decoyKinds: string[] = [];
  if (options.secrets) {
    const r = ruleItems(defs);
    items = r.items;
    skipped = r.skipped;
    compiled = r.compiled;
  } else {
    const set = decoys(seed);
    items = set.map((d) => ({
      text: d.text,
      secretStart: d.secretStart ?? 0,
      secretEnd: d.secretEnd ?? d.text.length,
      ownLine: d.ownLine ?? false,
      placeholder: d.placeholder ?? false,
    }));
    for (const d of set) if (!decoyKinds.includes(d.kind)) decoyKinds.push(d.kind);
  }
  const bound = items.filter((item) => item.pathBound);
  items = items.filter((item) => !item.pathBound);
  assign(slots, items, options.secrets);

  const files = new Map<string, CarrierFile[]>();
  const findings: ExpectedFinding[] = [];
  const recorded: string[] = [];
  const record = (prefix: string, slot: Slot, file: CarrierFile): void => {
    recorded.push(`${prefix}${file.path}`);
    file.planted.forEach((p, i) => {
      const item = slot.items[i];
      const ruleId = item?.ruleId;
      if (!item || !ruleId) return;
      const path = `${prefix}${file.path}`;
      const byteLength = Buffer.byteLength(item.text.slice(item.secretStart, item.secretEnd), 'utf8');
      findings.push({ ruleId, path, line: p.line, column: p.column, byteOffset: p.byteOffset, byteLength });
      const textStart = p.byteOffset - Buffer.byteLength(item.text.slice(0, item.secretStart), 'utf8');
      for (const other of alsoReported(item, compiled.values(), path)) {
        const byteOffset = textStart + Buffer.byteLength(item.text.slice(0, other.start), 'utf8');
        // Alone the example matches; in the file, context (a line anchor) may decide otherwise.
        const rule = compiled.get(other.ruleId);
        if (!rule || !reportsAt(rule, Buffer.from(file.content).toString('latin1'), byteOffset)) continue;
        const byteLength = Buffer.byteLength(item.text.slice(other.start, other.end), 'utf8');
        findings.push({ ruleId: other.ruleId, path, ...lineColumnAt(file.content, byteOffset), byteOffset, byteLength, plantedFor: ruleId });
      }
    });
  };
  slots.forEach((slot, i) => {
    const file = build(slot, seed + i);
    const list = files.get(slot.id) ?? [];
    list.push(file);
    files.set(slot.id, list);
  });
  const of = (id: string): CarrierFile[] => files.get(id) ?? [];
  const slotsOf = (id: string): Slot[] => slots.filter((s) => s.id === id);

  const written: Written[] = [];
  const artifacts: string[] = [];
  const addArtifact = (path: string, bytes: Uint8Array, prefix: string, id: string): void => {
    written.push({ path, bytes });
    artifacts.push(path);
    const ss = slotsOf(id);
    of(id).forEach((file, i) => {
      const slot = ss[i];
      if (slot) record(prefix, slot, file);
    });
  };

  // A source directory: the files themselves.
  of('dir').forEach((file) => written.push({ path: `src/${file.path}`, bytes: file.content }));
  // Rules limited to some paths get a file of their own, named so that their globs accept it.
  for (const item of bound) {
    const file = configFile([item], { path: item.pathBound });
    written.push({ path: `src/${file.path}`, bytes: file.content });
    record('src/', { id: 'dir', kind: 'py', path: file.path, items: [item] }, file);
  }
  // Rules that report a file by its name alone get a harmless file with such a name.
  const pathOnly = pathOnlyRules(defs);
  if (options.secrets) {
    for (const rule of pathOnly) {
      const name = pathForGlobs(rule.id, rule.paths ?? [], rule.pathsExclude);
      if (!name) {
        skipped.push({ ruleId: rule.id, reason: `no file name to derive from its paths ${JSON.stringify(rule.paths)}` });
        continue;
      }
      written.push({ path: `src/${name}`, bytes: Buffer.from('# fixture: the name alone is the finding\n', 'utf8') });
      recorded.push(`src/${name}`);
    }
  }
  artifacts.push('src');
  slotsOf('dir').forEach((slot, i) => {
    const file = of('dir')[i];
    if (file) record('src/', slot, file);
  });

  const npmPath = `npm/${NPM.name}-${NPM.version}.tgz`;
  addArtifact(npmPath, await npmTarball(NPM.name, NPM.version, of('npm')), `${npmPath}!package/`, 'npm');

  const wheelPath = `wheels/${wheelFileName(PY.name, PY.version)}`;
  addArtifact(wheelPath, await wheel(PY.name, PY.version, of('wheel')), `${wheelPath}!`, 'wheel');

  const sdistPath = `sdist/${sdistFileName(PY.name, PY.version)}`;
  const sdistRoot = sdistFileName(PY.name, PY.version).replace(/\.tar\.gz$/, '');
  addArtifact(sdistPath, await sdist(PY.name, PY.version, of('sdist')), `${sdistPath}!${sdistRoot}/`, 'sdist');

  const innerName = wheelFileName(INNER.name, INNER.version);
  const inner = await wheel(INNER.name, INNER.version, of('nested'));
  const nestedPath = `nested/${NESTED.name}-${NESTED.version}.tgz`;
  const nested = await npmTarball(NESTED.name, NESTED.version, [
    { path: 'index.js', content: "module.exports = require('./lib/load.js');\n" },
    { path: `vendor/${innerName}`, content: inner },
  ]);
  addArtifact(nestedPath, nested, `${nestedPath}!package/vendor/${innerName}!`, 'nested');

  // A single gzipped file; FNAME and the name without `.gz` agree, so either naming convention gives the same path.
  const gzFile = of('gz')[0];
  if (gzFile) addArtifact(`single/${gzFile.path}.gz`, gzipBuffer(gzFile.content, gzFile.path), `single/${gzFile.path}.gz!`, 'gz');

  const binPath = `misleading/${PY.name.replace(/-/g, '_')}-${PY.version}.bin`;
  addArtifact(binPath, await wheel(PY.name, PY.version, of('bin')), `${binPath}!`, 'bin');

  for (const [i, file] of of('bundle').entries()) {
    const path = `bundle/${file.path}`;
    written.push({ path, bytes: file.content });
    artifacts.push(path);
    const slot = slotsOf('bundle')[i];
    if (slot) record('bundle/', slot, file);
  }

  // The straddle file carries one text, long enough to cross the boundary visibly.
  const straddleItem = items.find((item) => item.secretEnd - item.secretStart >= 8) ?? items[0];
  if (straddleItem) {
    const file = straddleFile(straddleItem, { path: 'large/worker.log', seed });
    written.push({ path: file.path, bytes: file.content });
    artifacts.push(file.path);
    record('', { id: 'large', kind: 'py', path: file.path, items: [straddleItem] }, file);
  }

  // Every file whose name a path-only rule matches is reported by its path, once; a whole
  // directory (`.git/`) once for the directory.
  const rulesById = new Map<string, CompiledRule>([...compiled, ...pathOnly.map((r) => [r.id, r] as const)]);
  const pathFindings = new Set<string>();
  for (const path of new Set(recorded)) {
    const cut = path.lastIndexOf('!') + 1;
    const inner = path.slice(cut);
    for (const rule of pathOnly) {
      if (!ruleAppliesToPath(rule, inner)) continue;
      const target = `${path.slice(0, cut)}${pathFindingTarget(rule, inner)}`;
      if (pathFindings.has(`${rule.id} ${target}`)) continue;
      pathFindings.add(`${rule.id} ${target}`);
      findings.push({ ruleId: rule.id, path: target, line: 1, column: 1, byteOffset: 0, byteLength: 0 });
    }
  }
  // The scanner reports one finding per secret: where rules overlap, the highest-ranked one.
  const byPath = new Map<string, ExpectedFinding[]>();
  for (const f of findings) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const resolved = [...byPath.values()].flatMap((list) =>
    dropOverlapping(
      list,
      (f) => [f.byteOffset, f.byteOffset + f.byteLength],
      (f) => rulesById.get(f.ruleId) ?? { id: f.ruleId, confidence: 'high', severity: 'critical' },
    ),
  );
  findings.splice(0, findings.length, ...resolved);

  for (const w of written) {
    const target = join(outDir, w.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, w.bytes);
  }
  const manifest: AcceptanceManifest = {
    generator: '@pubguard/corpus',
    version: 1,
    seed,
    secrets: options.secrets,
    artifacts,
    findings,
    skipped,
    decoys: decoyKinds,
  };
  await writeFile(join(outDir, 'manifest.json'), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'));
  return manifest;
}
