/**
 * kwire's programmatic API: `analyze(capture)` runs the pipeline of DESIGN.md over a capture and
 * returns the JSON document of SPEC.md §5. The CLI is a thin layer over it; users who replay
 * captures in their own tests call it directly.
 *
 *   capture/ ──Frame──▶ decode/ ──DecodedPacket──▶ flow/ ──ordered bytes──▶ analyzers/
 */
import type { Readable } from 'node:stream';
import { openCapture, readCapture, type CaptureSource } from './capture/index.js';
import { PacketDecoder } from './decode/index.js';
import { FlowTable, type FlowStats } from './flow/index.js';
import { linktypeName, type Frame } from './model/frame.js';
import { newDecodedPacket } from './model/packet.js';
import { flowToJson, type FlowJson, type KwireDocument, type ReassemblyCounts } from './model/document.js';
import type { CaptureSink, InterfaceStats } from './model/capture.js';
import type { StreamFactory } from './model/flow.js';
import { AnalyzerFactory } from './analyzers/index.js';
import { TeeFactory } from './analyzers/tee.js';
import { TrustAnchors } from './pki/index.js';
import { PathResolver, type ClusterInfo } from './k8s/index.js';
import { findingsFor } from './findings/index.js';
import type { Finding } from './model/finding.js';

export type { KwireDocument, FlowJson, CaptureJson } from './model/document.js';
export type { FlowRecord } from './model/flow.js';
export { KwireError, InputError } from './model/errors.js';
export type { StreamFactory, StreamHandler, Direction, EndReason } from './model/flow.js';
export { StreamDumpFactory } from './analyzers/stream-dump.js';
export { TrustAnchors } from './pki/index.js';
export { loadClusterFile, parseCluster, type ClusterInfo } from './k8s/index.js';
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
}

export interface AnalyzeOptions {
  /**
   * Also hand every connection's ordered bytes to this factory (gopacket's StreamFactory), for
   * example a StreamDumpFactory that writes them to files as tcpflow does (`--streams`).
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
  /** Called between chunks of input. */
  onProgress?: (progress: Progress) => void;
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
  const started = Date.now();
  const source: CaptureSource =
    typeof input === 'string' ? await openCapture(input) : { stream: input, name: name ?? 'stream', sourceBytes: () => 0 };
  const flows: FlowJson[] = [];
  const findings: Finding[] = [];
  let findingCount = 0;
  const retainFlows = options.retainFlows ?? true;
  const anchorSets = [options.anchors, options.cluster?.anchors].filter((set) => set instanceof TrustAnchors);
  const analyzers = new AnalyzerFactory({ anchors: anchorSets.length === 0 ? undefined : TrustAnchors.union(anchorSets) });
  const paths = new PathResolver(options.cluster ?? null);
  const anchorsGiven = anchorSets.some((set) => set.size > 0);
  const flowTable = new FlowTable({
    factory: options.streams ? new TeeFactory(analyzers, options.streams) : analyzers,
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
    secrets() {
      // Decryption Secrets Blocks arrive here; the TLS decryption stage (a later issue) will use them.
    },
    interfaceStats(stats: InterfaceStats) {
      if (stats.dropped !== null) droppedByInterface.set(stats.iface, stats.dropped);
    },
  };

  const summary = await readCapture(
    source.stream,
    source.name,
    sink,
    () =>
      options.onProgress?.({
        sourceBytes: source.sourceBytes(),
        packets: frames,
        flows: flowTable.stats.flows,
        findings: findingCount,
        elapsedMs: Date.now() - started,
      }),
    options.signal,
  );
  flowTable.finish();
  flows.sort((a, b) => a.id - b.id);
  // Stable: each flow's findings stay worst first.
  findings.sort((a, b) => a.flowId - b.flowId);

  const dropped = droppedByInterface.size === 0 ? null : [...droppedByInterface.values()].reduce((sum, n) => sum + n, 0);
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
      ...(options.signal?.aborted ? { interrupted: true as const } : {}),
    },
    flows,
    findings,
  };
}

function reassemblyCounts(stats: FlowStats): ReassemblyCounts {
  const { retransmittedBytes, outOfOrderSegments, outOfWindow, gapBytes, portReuses, flowBudgetOverflows, totalBudgetOverflows, timeouts } = stats;
  return { retransmittedBytes, outOfOrderSegments, outOfWindow, gapBytes, portReuses, flowBudgetOverflows, totalBudgetOverflows, timeouts };
}
