/** Child processes of the test stacks: waiting for a ready line, stopping, and whether a pid lives. All bounded. */
import { spawn, type ChildProcess } from 'node:child_process';

export const STEP_TIMEOUT_MS = 10_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `text` on a child's stdout or stderr; rejects when it exits first or after the step timeout. */
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${STEP_TIMEOUT_MS} ms: ${seen}`)), STEP_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnargs.join(' ')} exited (${code}) before "${text}": ${seen}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 3 s. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** A process of that pid runs (namespaces named after dead test runs are removed). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Records with tcpdump into `file` while `traffic` runs: `prefix` runs it elsewhere (`ip netns exec
 * NS`), `iface` and `filter` say what it hears. -Z root: tcpdump would otherwise drop to its own
 * user, who cannot write in a private temp dir; --immediate-mode: without it, packets still in the
 * kernel's ring when tcpdump stops are lost.
 */
export async function tcpdumpWhile(prefix: string[], iface: string, filter: string, file: string, traffic: () => Promise<void>): Promise<void> {
  const command = [...prefix, 'tcpdump', '-i', iface, '--immediate-mode', '-U', '-s', '0', '-Z', 'root', '-w', file, filter];
  const tcpdump = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const life = setTimeout(() => tcpdump.kill('SIGKILL'), 4 * STEP_TIMEOUT_MS);
  try {
    await waitForOutput(tcpdump, 'listening on');
    await traffic();
    await sleep(400); // the last segments (FIN, RST) reach the capture
  } finally {
    clearTimeout(life);
    await stop(tcpdump);
  }
}
