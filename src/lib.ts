/**
 * kwire's programmatic API: `analyze(capture)` runs the pipeline of DESIGN.md over a capture, and
 * `sniff(interface)` the same pipeline over a live interface, and both return the JSON document of
 * SPEC.md §5. The CLI is a thin layer over them; users who replay captures in their own tests call
 * them directly.
 *
 *   capture/ ──Frame──▶ decode/ ──DecodedPacket──▶ flow/ ──ordered bytes──▶ analyzers/
 */
import type { Readable } from 'node:stream';
import { openCapture, readCapture, type CaptureSource } from './capture/index.js';
import { openLiveCapture, type LiveCaptureOptions } from './capture/live/index.js';
import { PacketDecoder } from './decode/index.js';
import { FlowTable, type FlowStats } from './flow/index.js';
import { linktypeName, type Frame } from './model/frame.js';
import { newDecodedPacket } from './model/packet.js';
import { flowToJson, type FlowJson, type KwireDocument, type ReassemblyCounts } from './model/document.js';
import type { CaptureSink, InterfaceStats, PacketSource, SourceSummary } from './model/capture.js';
import type { StreamFactory } from './model/flow.js';
import { AnalyzerFactory, KeyLog, KeyLogFile } from './analyzers/index.js';
import { TeeFactory } from './analyzers/tee.js';
import { TrustAnchors } from './pki/index.js';
import { PathResolver, type ClusterInfo } from './k8s/index.js';
import { findingsFor } from './findings/index.js';
import type { Finding } from './model/finding.js';

export type { KwireDocument, FlowJson, CaptureJson } from './model/document.js';
export type { LiveCaptureInfo, LiveBackend } from './model/capture.js';
export type { LiveCaptureOptions } from './capture/live/index.js';
export type { FlowRecord } from './model/flow.js';
export { KwireError, InputError, LiveCaptureError } from './model/errors.js';
export type { StreamFactory, StreamHandler, Direction, EndReason } from './model/flow.js';
export { StreamDumpFactory } from './analyzers/stream-dump.js';
export { TrustAnchors } from './pki/index.js';
export { loadClusterFile, parseCluster, type ClusterInfo } from './k8s/index.js';
export { KeyLog, loadKeyLogFile } from './analyzers/index.js';
export type * from './model/protocol.js';
export type * from './model/finding.js';
export { SEVERITIES } from './model/finding.js';

export interface Progress {
  /** Bytes of the source read so far (compressed bytes for a .gz file). */
  sourceBytes: number;
  packets: number;
  flows: number;
  findings: number;
  elapsedMs: number;
  /** Packets lost so far by a live capture (the kernel's, when known, and kwire's); null when unknown. */
  dropped: number | null;
}

export interface AnalyzeOptions {
  /**
   * Also hand every connection's ordered bytes to this factory (gopacket's StreamFactory), for
   * example a StreamDumpFactory that writes them to files as tcpflow does (`--streams`). A
   * handler's onEnd comes when its connection closes (FIN both ways, every byte delivered; a
   * reset one once quiet for a second; with a key log, when the flow leaves the table), while
   * onFlowEnd comes after the connection's linger.
   */
  streams?: StreamFactory;
  /** Trust anchors for server certificate verdicts (the cluster CA: `--ca`); the cluster file's `ca` adds to them. */
  anchors?: TrustAnchors;
  /** The cluster file (`--cluster`, k8s/ loadClusterFile): roles and paths from it first, inference after. */
  cluster?: ClusterInfo;
  /** Called as each connection ends, with its findings worst first (for streaming output and the store). */
  onFlowEnd?: (flow: FlowJson, findings: Finding[]) => void;
  /**
   * Keep every flow and finding for the returned document (the default). A streaming consumer that
   * takes them from onFlowEnd and onFinding sets it false: the document's `flows` and `findings`
   * are then empty and memory stays flat however many connections the capture holds.
   */
  retainFlows?: boolean;
  /**
   * An NSS key log file (SSLKEYLOGFILE) to decrypt TLS with (`--keylog`). Secrets in a pcapng
   * Decryption Secrets Block are used without it. In a live capture the file is read as it grows.
   */
  keylog?: string;
  /** Called once the source is open, before the first packet (a live interface: capturing). */
  onStart?: () => void;
  /** Called between chunks of input. */
  onProgress?: (progress: Progress) => void;
  /**
   * Called between chunks of input: when it returns a promise, the next chunk is read once it
   * settles. The consumer of onFlowEnd's output (the CLI's stdout under --ndjson) holds the
   * reading back this way instead of letting its output pile up in memory. Live, packets then
   * wait in the kernel's capture buffer, and past it are dropped and counted there, as for a
   * tcpdump whose output is read slowly.
   */
  ready?: () => void | Promise<void>;
  /**
   * Stops reading when aborted (SIGINT, SIGTERM): every connection seen so far is finished and the
   * document returned as for a capture that ended there (`capture.interrupted`).
   */
  signal?: AbortSignal;
}

/**
 * Analyse a capture: a file path, '-' for stdin, or a readable stream of pcap/pcapng bytes
 * (`name` then labels it in messages). Throws InputError when the input is not a capture; a
 * capture damaged part-way resolves with `capture.damage` set and every flow before the damage.
 */
export async function analyze(input: string | Readable, options: AnalyzeOptions = {}, name?: string): Promise<KwireDocument> {
  const capture: CaptureSource =
    typeof input === 'string' ? await openCapture(input) : { stream: input, name: name ?? 'stream', sourceBytes: () => 0 };
  return runPipeline(captureStreamSource(capture), options);
}

/**
 * Analyse a live interface (`kwire sniff`) through the same pipeline, until `signal` aborts, the
 * count or duration is reached, or the interface goes down (`capture.live.ended`). Every flow is
 * then finished. Throws LiveCaptureError naming the interface when it cannot be opened.
 */
export async function sniff(live: LiveCaptureOptions, options: AnalyzeOptions = {}): Promise<KwireDocument> {
  return runPipeline(await openLiveCapture(live), options);
}

/** A capture file or stream as a PacketSource: readCapture() does the reading. */
function captureStreamSource(capture: CaptureSource): PacketSource {
  return {
    name: capture.name,
    live: false,
    sourceBytes: capture.sourceBytes,
    droppedSoFar: () => null,
    read: (sink, onBatch, signal) => readCapture(capture.stream, capture.name, sink, onBatch, signal),
  };
}

/** How often a live capture moves the flow table's clock on when no packet comes. */
const LIVE_CLOCK_TICK_MS = 1000;

/** The one pipeline, whatever the source: capture → decode → flow → analyzers → k8s → findings. */
async function runPipeline(source: PacketSource, options: AnalyzeOptions): Promise<KwireDocument> {
  const started = Date.now();
  const flows: FlowJson[] = [];
  const findings: Finding[] = [];
  let findingCount = 0;
  const retainFlows = options.retainFlows ?? true;
  const anchorSets = [options.anchors, options.cluster?.anchors].filter((set) => set instanceof TrustAnchors);
  const keyLog = new KeyLog();
  // Read before the capture: a missing file costs no waiting. Live, what is appended later is read on each tick.
  const keyLogFile = options.keylog === undefined ? null : new KeyLogFile(options.keylog, keyLog);
  keyLogFile?.readNew();
  if (!source.live) keyLogFile?.finish();
  const analyzers = new AnalyzerFactory({ anchors: anchorSets.length === 0 ? undefined : TrustAnchors.union(anchorSets), keyLog });
  const paths = new PathResolver(options.cluster ?? null);
  const anchorsGiven = anchorSets.some((set) => set.size > 0);
  const flowTable = new FlowTable({
    factory: options.streams ? new TeeFactory(analyzers, options.streams) : analyzers,
    // A flow whose session keys may still come (a key log named, or secrets seen) looks them up at its end.
    endsAtClose: () => !keyLog.active,
    onFlowEnd(record) {
      const analysis = analyzers.take(record);
      const flow = flowToJson(record, analysis, paths.place(record, analysis));
      const flowFindings = findingsFor(flow, { anchorsGiven, firstPacket: record.firstPacket });
      findingCount += flowFindings.length;
      if (retainFlows) {
        flows.push(flow);
        findings.push(...flowFindings);
      }
      options.onFlowEnd?.(flow, flowFindings);
    },
  });
  const decoder = new PacketDecoder();
  const packet = newDecodedPacket();
  let frames = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  /** Interface Statistics are cumulative: the last report of each interface counts. */
  const droppedByInterface = new Map<number, number>();

  const sink: CaptureSink = {
    frame(frame: Frame) {
      frames++;
      firstTs ??= frame.ts;
      lastTs = frame.ts;
      if (decoder.decode(frame, packet) === 'ok' && packet.proto === 6) flowTable.packet(packet, frame);
    },
    secrets(type: number, data: Buffer) {
      keyLog.addSecrets(type, data);
    },
    interfaceStats(stats: InterfaceStats) {
      if (stats.dropped !== null) droppedByInterface.set(stats.iface, stats.dropped);
    },
  };

  const reportProgress = () =>
    options.onProgress?.({
      sourceBytes: source.sourceBytes(),
      packets: frames,
      flows: flowTable.stats.flows,
      findings: findingCount,
      elapsedMs: Date.now() - started,
      dropped: source.droppedSoFar(),
    });
  const batchDone = () => {
    reportProgress();
    return options.ready?.();
  };
  // Live, capture time is the wall clock: flows end by it when traffic stops, and progress goes on.
  const clock = source.live
    ? setInterval(() => {
        keyLogFile?.readNew();
        flowTable.advanceClock(Date.now() / 1000);
        reportProgress();
      }, LIVE_CLOCK_TICK_MS)
    : undefined;
  let summary: SourceSummary;
  options.onStart?.();
  try {
    summary = await source.read(sink, batchDone, options.signal);
  } finally {
    clearInterval(clock);
  }
  if (source.live && keyLogFile) {
    keyLogFile.readNew();
    keyLogFile.finish();
  }
  flowTable.finish();
  flows.sort((a, b) => a.id - b.id);
  // Stable: each flow's findings stay worst first.
  findings.sort((a, b) => a.flowId - b.flowId);

  const reportedDrops = droppedByInterface.size === 0 ? null : [...droppedByInterface.values()].reduce((sum, n) => sum + n, 0);
  const dropped = summary.live ? summary.live.droppedByKernel : reportedDrops;
  return {
    capture: {
      source: source.name,
      format: summary.format,
      linktypes: summary.linktypes.map(linktypeName),
      packets: summary.frames,
      bytes: summary.bytes,
      firstTs,
      lastTs,
      decodeErrors: decoder.errorTotal,
      decodeErrorsByName: decoder.errorCounts(),
      damage: summary.damage,
      dropped,
      reassembly: reassemblyCounts(flowTable.stats),
      ...(summary.live ? { live: summary.live } : {}),
      ...(keyLog.active ? { keylog: { file: options.keylog ?? null, secrets: keyLog.secrets, badLines: keyLog.badLines } } : {}),
      // Stopping is how a live capture ends: only a file or stream stopped before its end is interrupted.
      ...(options.signal?.aborted && !source.live ? { interrupted: true as const } : {}),
    },
    flows,
    findings,
  };
}

function reassemblyCounts(stats: FlowStats): ReassemblyCounts {
  const { retransmittedBytes, outOfOrderSegments, outOfWindow, gapBytes, portReuses, flowBudgetOverflows, totalBudgetOverflows, timeouts } = stats;
  return { retransmittedBytes, outOfOrderSegments, outOfWindow, gapBytes, portReuses, flowBudgetOverflows, totalBudgetOverflows, timeouts };
}
