/** Runs the built CLI (`bin/kwire`, over dist/) as a user would, and returns what it printed. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './corpus.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Commands that write a database (kwire.db in the working directory) unless told otherwise. */
const WRITERS = new Set(['read', 'check']);

/**
 * `asRootWithoutOverride` runs it as root that honours file modes: setpriv (util-linux) drops the
 * capabilities with which root reads any file. `read` and `check` get `--no-db` unless the test
 * names a database: tests running side by side must not share one kwire.db (test/store.test.ts
 * tests the default).
 */
export function kwire(args: string[], options: { input?: Buffer; cwd?: string; asRootWithoutOverride?: boolean } = {}): CliResult {
  const storeChosen = args.some((arg) => arg === '--db' || arg.startsWith('--db=') || arg === '--no-db' || arg === '--help' || arg === '-h');
  const command = [process.execPath, path.join(repoRoot, 'bin', 'kwire'), ...args, ...(WRITERS.has(args[0]) && !storeChosen ? ['--no-db'] : [])];
  if (options.asRootWithoutOverride) command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search');
  const result = spawnSync(command[0], command.slice(1), {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
