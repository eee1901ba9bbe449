// Generated benchmark inputs: English-like prose, one-line minified JS, random bytes and
// source-like files. Deterministic (seeded) so runs on different days compare.
import { Buffer } from 'node:buffer';
import { Prng, base62Crc32, minifiedBundle } from '@pubguard/corpus';

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over ' +
  'man me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three release package version publish registry build artifact credential ' +
  'maintainer pipeline archive checksum token access review signature policy manifest dependency'
).split(' ');

/** `bytes` of English-like prose: sentences of common words in paragraphs (ASCII). */
export function prose(bytes, seed = 1) {
  const rng = new Prng(seed);
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const sentence = [];
    for (let n = rng.int(6, 22); n > 0; n--) sentence.push(rng.pick(WORDS));
    const first = sentence[0] ?? 'the';
    sentence[0] = first[0].toUpperCase() + first.slice(1);
    let s = `${sentence.join(' ')}${rng.pick(['.', '.', '.', '?', '!'])}`;
    s += rng.int(0, 7) === 0 ? '\n\n' : ' ';
    parts.push(s);
    size += s.length;
  }
  return parts.join('').slice(0, bytes);
}

/** `bytes` of one-line minified JavaScript, with no secret in it. */
export function minifiedJs(bytes, seed = 1) {
  const file = minifiedBundle([], { size: bytes, seed });
  return Buffer.from(file.content).toString('latin1').slice(0, bytes);
}

/** `bytes` of random binary, decoded as latin1 (as the engine decodes every file). */
export function randomBinary(bytes, seed = 1) {
  const rng = new Prng(seed);
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) out.writeUInt32LE(rng.nextUint32(), i);
  for (let i = bytes - (bytes % 4); i < bytes; i++) out[i] = rng.nextUint32() & 0xff;
  return out.toString('latin1');
}

/** A source-like JS file of about `bytes`: prose comments between small functions. */
export function sourceFile(bytes, seed = 1) {
  const rng = new Prng(seed);
  const parts = ["'use strict';\n\n"];
  let size = parts[0].length;
  let n = 0;
  while (size < bytes) {
    const name = `${rng.pick(WORDS)}${n++}`;
    const block =
      `/**\n * ${prose(rng.int(60, 240), rng.nextUint32()).replace(/\n+/g, ' ')}\n */\n` +
      `export function ${name}(items, limit = ${rng.int(1, 99)}) {\n` +
      `  const out = [];\n  for (const item of items) {\n    if (out.length >= limit) break;\n` +
      `    out.push(item.${rng.pick(WORDS)} ?? ${rng.int(0, 9999)});\n  }\n  return out;\n}\n\n`;
    parts.push(block);
    size += block.length;
  }
  return parts.join('');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fake token of a checksummed format (`ghp_`, `npm_`): 30 random base62 chars plus their valid CRC. */
export function checksummedToken(prefix, seed) {
  const body = new Prng(seed).string(BASE62, 30);
  return `${prefix}${body}${base62Crc32(body)}`;
}
