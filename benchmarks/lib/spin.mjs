#!/usr/bin/env node
// A fixed amount of pure matching, no I/O: the machine's own ceiling for running several
// threads of pubguard's kind of work at once. run.mjs times one copy alone and one copy per
// CPU at once; on a machine whose CPUs share execution units or are shared with other guests,
// the copies slow each other down, and no program can use "both cores" better than that.
// Usage: node benchmarks/lib/spin.mjs [MB]
import { Matcher } from '@pubguard/engine';
import { builtinRuleset } from '@pubguard/rules';
import { sourceFile } from './text.mjs';

const mb = Number(process.argv[2] ?? '300');
const segment = Buffer.from(sourceFile(1 << 20, 7));
const matcher = new Matcher(builtinRuleset());
const spec = { ownedStart: 0, ownedEnd: segment.length, atFileStart: true, atFileEnd: true };
for (let done = 0; done < mb * 1e6; done += segment.length) matcher.matchSegment(segment, spec);
