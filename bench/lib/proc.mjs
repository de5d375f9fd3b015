// Child-process helpers for the benchmark scripts. Every child started here is tracked so that a
// timeout or a signal can stop exactly the processes this script started, by pid.
import { spawn, execFileSync } from 'node:child_process';

const children = new Set();

/** Starts a long-running child (server, tcpdump, client) and tracks it until it exits. */
export function start(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', () => children.delete(child));
  return child;
}

/** Waits for the child's exit; resolves with its exit code (or the signal name). */
export function waitExit(child, timeoutMs) {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(child.exitCode ?? child.signalCode);
      return;
    }
    const timer = setTimeout(() => reject(new Error(`${child.spawnargs.join(' ')}: no exit after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/** Resolves when a line of the child's stream matches `pattern`; rejects on exit or timeout. */
export function waitForLine(child, stream, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern} from ${child.spawnargs.join(' ')}: ${seen.slice(-500)}`)), timeoutMs);
    const onData = (chunk) => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) done(null, match);
    };
    const onExit = () => done(new Error(`${child.spawnargs.join(' ')} exited before ${pattern}: ${seen.slice(-500)}`));
    function done(error, match) {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match);
    }
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Runs a command to completion with a hard time limit; collects stdout and stderr. */
export function run(cmd, args, { timeoutMs = 60_000, input, env, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = start(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || quiet) resolve({ code: code ?? signal, stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} → ${code ?? signal}: ${stderr.trim().slice(-800)}`));
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** Synchronous run for set-up and clean-up steps; throws with stderr on failure. */
export function runSync(cmd, args, { allowFail = false } = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (error) {
    if (allowFail) return '';
    throw new Error(`${cmd} ${args.join(' ')}: ${(error.stderr || error.message).toString().trim()}`);
  }
}

/** Kills every child still running (used on timeout, signal or error). */
export function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try { process.kill(child.pid, signal); } catch { /* already gone */ }
  }
}

/** Runs `worker(item, index)` over `count` items with at most `limit` in flight. */
export async function pool(count, limit, worker) {
  let next = 0;
  async function lane() {
    while (next < count) {
      const index = next++;
      await worker(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

export function hasCommand(name) {
  return runSync('sh', ['-c', `command -v ${name}`], { allowFail: true }).trim() !== '';
}
