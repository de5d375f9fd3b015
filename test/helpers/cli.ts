/** Runs the built CLI (`bin/kwire`, over dist/) as a user would, and returns what it printed. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './corpus.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function kwire(args: string[], options: { input?: Buffer; cwd?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kwire'), ...args], {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
