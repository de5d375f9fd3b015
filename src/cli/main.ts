/**
 * `kwire`: parses the command line, runs the pipeline through lib.ts, prints, and maps errors
 * to exit statuses (0 success, 2 bad usage or unreadable input) with one line on stderr.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { analyze, loadClusterFile, StreamDumpFactory, TrustAnchors } from '../lib.js';
import { KwireError } from '../model/errors.js';
import { parseCommandLine, usage, type ReadOptions } from './args.js';
import type { KwireDocument } from '../model/document.js';
import { renderSummary } from './text.js';
import { ProgressLine } from './progress.js';

export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    switch (parsed.command) {
      case 'help':
        process.stdout.write((usage[parsed.topic ?? 'main'] ?? usage.main) + '\n');
        return 0;
      case 'version':
        process.stdout.write(`kwire ${packageVersion()}\n`);
        return 0;
      case 'read':
        return await read(parsed.options);
    }
  } catch (error) {
    if (error instanceof KwireError) {
      process.stderr.write(`kwire: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function read(options: ReadOptions): Promise<number> {
  const showProgress = !options.quiet && process.stderr.isTTY === true;
  const progress = showProgress ? new ProgressLine(process.stderr, fileSize(options.input)) : null;
  const out = process.stdout;
  // Configuration is read before the capture: a mistake in it costs no waiting.
  const cluster = options.cluster === null ? undefined : loadClusterFile(options.cluster);
  const anchors = options.ca.length === 0 ? undefined : TrustAnchors.union(options.ca.map(readAnchors));
  const doc = await analyze(options.input, {
    cluster,
    anchors,
    streams: options.streamsDir ? new StreamDumpFactory(options.streamsDir) : undefined,
    onProgress: progress ? (p) => progress.update(p) : undefined,
    onFlowEnd: options.ndjson ? (flow) => out.write(JSON.stringify({ type: 'flow', ...flow }) + '\n') : undefined,
    retainFlows: !options.ndjson,
  });
  progress?.clear();

  if (doc.capture.damage) {
    const { offset, message } = doc.capture.damage;
    process.stderr.write(
      `kwire: warning: ${doc.capture.source}: damaged at byte ${offset} (${message}); kept the ${doc.capture.packets} packets before it\n`,
    );
  }
  if (options.json) writeDocument(out, doc);
  else if (options.ndjson) out.write(JSON.stringify({ type: 'capture', ...doc.capture }) + '\n');
  else out.write(renderSummary(doc));
  return 0;
}

/**
 * The document of SPEC.md §5, as `JSON.stringify(doc, null, 2)` would print it, written one flow at
 * a time: a capture of many connections never becomes one string of tens of megabytes.
 */
function writeDocument(out: NodeJS.WritableStream, doc: KwireDocument): void {
  const nested = (value: unknown, depth: number) => JSON.stringify(value, null, 2).replaceAll('\n', '\n' + '  '.repeat(depth));
  out.write(`{\n  "capture": ${nested(doc.capture, 1)},\n  "flows": [`);
  doc.flows.forEach((flow, i) => out.write(`${i === 0 ? '' : ','}\n    ${nested(flow, 2)}`));
  out.write(`${doc.flows.length === 0 ? '' : '\n  '}],\n  "findings": ${nested(doc.findings, 1)}\n}\n`);
}

/** One `--ca` bundle; a mistake in it names the file (exit 2). */
function readAnchors(file: string): TrustAnchors {
  try {
    return TrustAnchors.fromPem(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof KwireError ? error.message : `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw new KwireError('BAD_CA', `${file}: ${reason}`);
  }
}

function fileSize(input: string): number | null {
  if (input === '-') return null;
  try {
    return statSync(input).size;
  } catch {
    return null;
  }
}

function packageVersion(): string {
  return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
}
