/**
 * DESIGN.md's one-way pipeline, held by the imports themselves: a stage imports only from stages to
 * its left and from src/model/; nothing imports from tui/ or cli/ but the command line and lib.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from './helpers/corpus.js';

/** Left to right. pki/ (X.509) is the analyzers' library; lib.ts and cli/ wire every stage. */
const ORDER = ['model', 'capture', 'decode', 'flow', 'pki', 'analyzers', 'k8s', 'findings', 'store', 'tui', 'lib', 'cli'];

const SRC = path.join(repoRoot, 'src');

/** Source files, without tests and their helpers (testing.ts, test-*.ts). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(file);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$|^testing\.ts$|^test-/.test(entry.name) ? [file] : [];
  });
}

const stageOf = (file: string) => path.relative(SRC, file).split(path.sep)[0].replace(/\.ts$/, '');

it('imports only go left along the pipeline', () => {
  const wrong: string[] = [];
  for (const file of sources(SRC)) {
    const from = stageOf(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
      const to = stageOf(path.resolve(path.dirname(file), specifier));
      if (ORDER.indexOf(to) > ORDER.indexOf(from)) wrong.push(`${path.relative(SRC, file)} imports ${specifier} (${to}/ is right of ${from}/)`);
    }
  }
  expect(ORDER).toEqual(expect.arrayContaining(readdirSync(SRC).filter((name) => !name.includes('.')).concat('lib')));
  expect(wrong).toEqual([]);
});
