/**
 * Command-line parsing for every command: one table of options, node:util's parseArgs, and a
 * usage error (exit 2) that says what was wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KwireError } from '../model/errors.js';
import { SEVERITIES, type Severity } from '../model/finding.js';

export class UsageError extends KwireError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export interface ReadOptions {
  input: string;
  json: boolean;
  ndjson: boolean;
  quiet: boolean;
  streamsDir: string | null;
  /** `--cluster PATH`: the cluster file of SPEC.md §2, or a kubectl List. */
  cluster: string | null;
  /** `--ca PATH`, repeatable: PEM bundles of trust anchors. */
  ca: string[];
  /** `--db PATH` (default kwire.db); null with `--no-db`. */
  db: string | null;
}

export interface ReportOptions {
  db: string;
  format: 'text' | 'json' | 'markdown';
  /** `--capture ID`; null for the latest. */
  capture: number | null;
}

export const DEFAULT_DB = 'kwire.db';

export interface CheckOptions extends ReadOptions {
  /** `--fail-on LEVEL`: exit 1 when a finding at or above it exists. */
  failOn: Severity;
}

/** `check`'s default gate: anything beyond information fails. */
export const DEFAULT_FAIL_ON: Severity = 'low';

const readOptions = {
  json: { type: 'boolean', default: false },
  ndjson: { type: 'boolean', default: false },
  db: { type: 'string', default: DEFAULT_DB },
  'no-db': { type: 'boolean', default: false },
  streams: { type: 'string' },
  cluster: { type: 'string' },
  ca: { type: 'string', multiple: true, default: [] },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const checkOptions = { ...readOptions, 'fail-on': { type: 'string', default: DEFAULT_FAIL_ON } } satisfies ParseArgsConfig['options'];

const reportOptions = {
  db: { type: 'string', default: DEFAULT_DB },
  format: { type: 'string', default: 'text' },
  capture: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const REPORT_FORMATS: readonly ReportOptions['format'][] = ['text', 'json', 'markdown'];

export type ParsedCommand =
  | { command: 'help'; topic: string | null }
  | { command: 'version' }
  | { command: 'read'; options: ReadOptions }
  | { command: 'check'; options: CheckOptions }
  | { command: 'report'; options: ReportOptions };

export function parseCommandLine(argv: string[]): ParsedCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', topic: rest[0] ?? null };
  }
  if (command === '--version' || command === 'version') return { command: 'version' };
  if (command === 'read') {
    const { values, positionals } = parseOrExplain(rest, readOptions);
    if (values.help) return { command: 'help', topic: 'read' };
    return { command: 'read', options: captureOptions('read', values, positionals) };
  }
  if (command === 'check') {
    const { values, positionals } = parseOrExplain(rest, checkOptions);
    if (values.help) return { command: 'help', topic: 'check' };
    const failOn = values['fail-on'] as Severity;
    if (!SEVERITIES.includes(failOn)) throw new UsageError(`check: --fail-on takes ${SEVERITIES.join(', ')} (got '${failOn}')`);
    return { command: 'check', options: { ...captureOptions('check', values, positionals), failOn } };
  }
  if (command === 'report') {
    const { values, positionals } = parseOrExplain(rest, reportOptions);
    if (values.help) return { command: 'help', topic: 'report' };
    if (positionals.length > 0) throw new UsageError(`report: it reads the database (--db), not a capture (got '${positionals[0]}')`);
    const format = values.format as ReportOptions['format'];
    if (!REPORT_FORMATS.includes(format)) throw new UsageError(`report: --format takes ${REPORT_FORMATS.join(', ')} (got '${values.format}')`);
    const capture = values.capture === undefined ? null : Number(values.capture);
    if (capture !== null && !(Number.isInteger(capture) && capture > 0)) throw new UsageError(`report: --capture takes a capture id (got '${values.capture}')`);
    return { command: 'report', options: { db: values.db, format, capture } };
  }
  throw new UsageError(`unknown command '${command}' (see 'kwire --help')`);
}

/** The options read and check share: one capture, and how to print what it holds. */
function captureOptions(command: string, values: ReturnType<typeof parseOrExplain<typeof readOptions>>['values'], positionals: string[]): ReadOptions {
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `${command}: name a capture file, or '-' for stdin` : `${command}: one capture at a time (got ${positionals.length})`);
  }
  if (values.json && values.ndjson) throw new UsageError(`${command}: --json and --ndjson are exclusive`);
  if (values['no-db'] && values.db !== DEFAULT_DB) throw new UsageError(`${command}: --db and --no-db are exclusive`);
  return {
    input: positionals[0],
    json: values.json,
    ndjson: values.ndjson,
    quiet: values.quiet,
    streamsDir: values.streams ?? null,
    cluster: values.cluster ?? null,
    ca: values.ca,
    db: values['no-db'] ? null : values.db,
  };
}

function parseOrExplain<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' messages are good but long ("Unknown option '--x'. To specify a positional …"): keep the first sentence.
    throw new UsageError((error as Error).message.split('. ')[0]);
  }
}

const COMMON_OPTIONS = `Options:
  --json          print the whole result as one JSON document on stdout (capture, flows, findings)
  --ndjson        print one JSON record per line: a "flow" record as each connection ends, each of its
                  "finding" records after it, then a "capture" record
  --cluster PATH  cluster file (YAML or JSON: apiservers, nodes, podCIDRs, kubernetesServiceIP, etcd, ca …),
                  or the output of 'kubectl get nodes,pods,services -A -o json'; names each connection's
                  path from it, and infers what it does not say (port 6443, certificate names, kubelet URLs)
  --ca PATH       PEM bundle of trust anchors, such as the cluster CA (repeatable); server certificates
                  are verified against these and the cluster file's 'ca'. Without any, only certificates
                  no CA issued (the kubelet's self-signed default) count as unverified
  --streams DIR   write each connection direction's reassembled bytes to DIR, named as tcpflow names them
  --db PATH       SQLite database to write the run into (default ${DEFAULT_DB} in the working directory;
                  'kwire report' and 'kwire tui' read it)
  --no-db         write no database
  -q, --quiet     no progress line on stderr`;

export const usage: Record<string, string> = {
  main: `kwire — which Kubernetes control-plane paths are not safe on an untrusted network, from the packets

Usage:
  kwire read FILE|- [options]                  analyse a pcap or pcapng file (gzip too), or one piped on stdin
  kwire check FILE|- [--fail-on LEVEL] [options]   the same as a CI gate: exit 1 when a finding at or above LEVEL exists
  kwire report [--db PATH] [--format text|json|markdown]   what a run stored, from the database

Run 'kwire COMMAND --help' for the options and examples.`,
  read: `Usage: kwire read FILE|- [options]

Reads a pcap or pcapng capture (optionally gzip-compressed) as a stream, reassembles every TCP
connection, names its communication path (node->apiserver, apiserver->kubelet, …) and prints
the paths of the Kubernetes page with how each was secured, the findings grouped by rule with
their evidence and fix, and the connections.

${COMMON_OPTIONS}

Exit status: 0 success (also for a capture cut short: kwire warns with the byte offset and keeps
every connection up to the damage); 2 bad usage or an input that is not a capture.

Examples:
  kwire read captures/sample-tls-http.pcap
  kwire read node1.pcap --cluster cluster.yaml --ca /etc/kubernetes/pki/ca.crt
  kwire read node1.pcap.gz --json | jq '.findings[] | {rule, path, title}'
  tcpdump -i eth0 -U -w - 'tcp port 6443 or tcp port 10250' | kwire read -
  kwire read capture.pcapng --streams /tmp/streams
  kubectl get nodes,pods,services -A -o json > cluster.json && kwire read node1.pcap --cluster cluster.json --json | jq '.flows[] | {id, path, roles}'`,
  check: `Usage: kwire check FILE|- [--fail-on LEVEL] [options]

Analyses the capture as 'kwire read' does and prints the same output, then exits 1 when a finding
at or above LEVEL exists: a gate for CI jobs that replay captures of a cluster.

  --fail-on LEVEL  info, low, medium, high or critical (default ${DEFAULT_FAIL_ON}: anything beyond information)

${COMMON_OPTIONS}

Exit status: 0 no finding at or above LEVEL; 1 at least one; 2 bad usage or an input that is not a capture.

Examples:
  kwire check captures/scenarios/apiserver-kubelet-mtls.pcap --cluster captures/scenarios/cluster.yaml
  kwire check node1.pcap --fail-on high --ca /etc/kubernetes/pki/ca.crt -q || echo "unsafe paths found"
  kwire check node1.pcap --json --fail-on critical > result.json`,
  report: `Usage: kwire report [--db PATH] [--format text|json|markdown] [--capture ID]

Prints what a run of 'kwire read', 'kwire check' or 'kwire sniff' stored in the database, without
reading the capture again: the same summary, JSON document and findings as that run printed.

  --db PATH        the database (default ${DEFAULT_DB} in the working directory)
  --format FORMAT  text (the summary of 'kwire read'), json (the document of 'kwire read --json'),
                   or markdown (the path matrix and the findings, for a ticket or a pull request)
  --capture ID     which run, when the database holds several (default: the latest)

Exit status: 0 success; 2 bad usage, or a database that is missing, not kwire's, or from a newer kwire.

Examples:
  kwire read node1.pcap --cluster cluster.yaml -q > /dev/null && kwire report --format markdown > node1-report.md
  kwire report --db /var/lib/kwire/node1.db --format json | jq '.findings | group_by(.rule) | map({rule: .[0].rule, n: length})'`,
};
