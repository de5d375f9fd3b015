/**
 * Command-line parsing for every command: one table of options, node:util's parseArgs, and a
 * usage error (exit 2) that says what was wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KwireError } from '../model/errors.js';
import { SEVERITIES, type Severity } from '../model/finding.js';
import { CAP_BUFFER_KIB, TCPDUMP_BUFFER_KIB, bufferSizeProblem } from '../capture/live/index.js';

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
  /** `--keylog PATH`: an NSS key log file to decrypt TLS with. */
  keylog: string | null;
  /** `--db PATH` (default kwire.db); null with `--no-db`. */
  db: string | null;
  /** `--tui`: show the dashboard while reading, until the user quits. */
  tui: boolean;
}

export interface ReportOptions {
  db: string;
  format: 'text' | 'json' | 'markdown';
  /** `--capture ID`; null for the latest. */
  capture: number | null;
}

export interface TuiOptions {
  db: string;
  /** `--capture ID`; null for the latest, and the next one as soon as a writer starts it. */
  capture: number | null;
}

export const DEFAULT_DB = 'kwire.db';

export interface CheckOptions extends ReadOptions {
  /** `--fail-on LEVEL`: exit 1 when a finding at or above it exists. */
  failOn: Severity;
}

/** `kwire sniff`: a live interface instead of a capture file, and when to stop. */
export interface SniffOptions extends Omit<ReadOptions, 'input'> {
  /** `-i IFACE`. */
  interface: string;
  /** The trailing arguments, joined as tcpdump joins them: a BPF expression ('' for every packet). */
  filter: string;
  /** `--backend auto|cap|tcpdump` (default auto: cap when it loaded, else tcpdump). */
  backend: 'auto' | 'cap' | 'tcpdump';
  /** `--duration S`: stop after S seconds; null to run until SIGINT or SIGTERM. */
  duration: number | null;
  /** `--count N`: stop after N packets. */
  count: number | null;
  /** `--write FILE`: also save the raw packets as pcapng. */
  write: string | null;
  /** `-B KiB`, `--buffer-size KiB` (tcpdump's): the kernel's capture buffer; null for the backend's default. */
  bufferKiB: number | null;
}

const SNIFF_BACKENDS: readonly SniffOptions['backend'][] = ['auto', 'cap', 'tcpdump'];

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
  keylog: { type: 'string' },
  quiet: { type: 'boolean', short: 'q', default: false },
  tui: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const sniffOptions = {
  ...readOptions,
  interface: { type: 'string', short: 'i' },
  backend: { type: 'string', default: 'auto' },
  duration: { type: 'string' },
  count: { type: 'string', short: 'c' },
  write: { type: 'string', short: 'w' },
  'buffer-size': { type: 'string', short: 'B' },
} satisfies ParseArgsConfig['options'];

const checkOptions = { ...readOptions, 'fail-on': { type: 'string', default: DEFAULT_FAIL_ON } } satisfies ParseArgsConfig['options'];

const reportOptions = {
  db: { type: 'string', default: DEFAULT_DB },
  format: { type: 'string', default: 'text' },
  capture: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const tuiOptions = {
  db: { type: 'string', default: DEFAULT_DB },
  capture: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

const REPORT_FORMATS: readonly ReportOptions['format'][] = ['text', 'json', 'markdown'];

export type ParsedCommand =
  | { command: 'help'; topic: string | null }
  | { command: 'version' }
  | { command: 'read'; options: ReadOptions }
  | { command: 'check'; options: CheckOptions }
  | { command: 'sniff'; options: SniffOptions }
  | { command: 'report'; options: ReportOptions }
  | { command: 'tui'; options: TuiOptions };

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
  if (command === 'sniff') {
    const { values, positionals } = parseOrExplain(rest, sniffOptions);
    if (values.help) return { command: 'help', topic: 'sniff' };
    if (values.interface === undefined) throw new UsageError("sniff: name the interface with -i (for example -i eth0, or -i any)");
    const backend = values.backend as SniffOptions['backend'];
    if (!SNIFF_BACKENDS.includes(backend)) throw new UsageError(`sniff: --backend takes ${SNIFF_BACKENDS.join(', ')} (got '${values.backend}')`);
    return {
      command: 'sniff',
      options: {
        ...outputOptions('sniff', values),
        interface: values.interface,
        filter: positionals.join(' '),
        backend,
        duration: positiveNumber('--duration', values.duration, false),
        count: positiveNumber('--count', values.count, true),
        write: values.write ?? null,
        bufferKiB: bufferSize(values['buffer-size']),
      },
    };
  }
  if (command === 'report') {
    const { values, positionals } = parseOrExplain(rest, reportOptions);
    if (values.help) return { command: 'help', topic: 'report' };
    if (positionals.length > 0) throw new UsageError(`report: it reads the database (--db), not a capture (got '${positionals[0]}')`);
    const format = values.format as ReportOptions['format'];
    if (!REPORT_FORMATS.includes(format)) throw new UsageError(`report: --format takes ${REPORT_FORMATS.join(', ')} (got '${values.format}')`);
    return { command: 'report', options: { db: values.db, format, capture: captureId('report', values.capture) } };
  }
  if (command === 'tui') {
    const { values, positionals } = parseOrExplain(rest, tuiOptions);
    if (values.help) return { command: 'help', topic: 'tui' };
    if (positionals.length > 0) throw new UsageError(`tui: it shows the database (--db), not a capture (got '${positionals[0]}'; 'kwire read ${positionals[0]} --tui' reads one)`);
    return { command: 'tui', options: { db: values.db, capture: captureId('tui', values.capture) } };
  }
  throw new UsageError(`unknown command '${command}' (see 'kwire --help')`);
}

/** `--capture ID`: a positive integer, or null when not given. */
function captureId(command: string, value: string | undefined): number | null {
  const capture = value === undefined ? null : Number(value);
  if (capture !== null && !(Number.isInteger(capture) && capture > 0)) throw new UsageError(`${command}: --capture takes a capture id (got '${value}')`);
  return capture;
}

/** `sniff --duration S` (seconds, fractions allowed) or `--count N` (an integer): positive, or null when not given. */
function positiveNumber(option: string, value: string | undefined, integer: boolean): number | null {
  if (value === undefined) return null;
  const number = Number(value);
  if (!(number > 0 && Number.isFinite(number) && (!integer || Number.isInteger(number)))) {
    throw new UsageError(`sniff: ${option} takes a positive ${integer ? 'integer' : 'number of seconds'} (got '${value}')`);
  }
  return number;
}

/** `sniff -B KiB`: the kernel's capture buffer, or null when not given. */
function bufferSize(value: string | undefined): number | null {
  if (value === undefined) return null;
  const kib = Number(value);
  const problem = bufferSizeProblem(kib);
  if (problem) throw new UsageError(`sniff: --buffer-size takes ${problem} (got '${value}')`);
  return kib;
}

/** The options read and check share: one capture, and how to print what it holds. */
function captureOptions(command: string, values: ReturnType<typeof parseOrExplain<typeof readOptions>>['values'], positionals: string[]): ReadOptions {
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? `${command}: name a capture file, or '-' for stdin` : `${command}: one capture at a time (got ${positionals.length})`);
  }
  return { input: positionals[0], ...outputOptions(command, values) };
}

/** The options of every command that analyses packets: how to print and store what it finds. */
function outputOptions(command: string, values: ReturnType<typeof parseOrExplain<typeof readOptions>>['values']): Omit<ReadOptions, 'input'> {
  if (values.json && values.ndjson) throw new UsageError(`${command}: --json and --ndjson are exclusive`);
  if (values['no-db'] && values.db !== DEFAULT_DB) throw new UsageError(`${command}: --db and --no-db are exclusive`);
  if (values.tui && values.ndjson) throw new UsageError(`${command}: --tui and --ndjson are exclusive (both would write on the terminal as the capture is read)`);
  return {
    json: values.json,
    ndjson: values.ndjson,
    quiet: values.quiet,
    streamsDir: values.streams ?? null,
    cluster: values.cluster ?? null,
    ca: values.ca,
    keylog: values.keylog ?? null,
    db: values['no-db'] ? null : values.db,
    tui: values.tui,
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
  --keylog PATH   NSS key log file (SSLKEYLOGFILE, as curl, Node's keylog event and Go's KeyLogWriter
                  write it) to decrypt TLS 1.2 and 1.3 with: certificates, client authentication and
                  requests inside TLS are then 'decrypted'; secrets in a pcapng Decryption Secrets
                  Block are used without it; live, the file is read as it grows
  --streams DIR   write each connection direction's reassembled bytes to DIR, named as tcpflow names them
  --db PATH       SQLite database to write the run into (default ${DEFAULT_DB} in the working directory;
                  'kwire report' and 'kwire tui' read it)
  --no-db         write no database
  --tui           show the dashboard while reading (the one of 'kwire tui'), and keep it open at the
                  end until q; then print as without it. Needs a terminal on stdout
  -q, --quiet     no progress line on stderr`;

export const usage: Record<string, string> = {
  main: `kwire — which Kubernetes control-plane paths are not safe on an untrusted network, from the packets

Usage:
  kwire read FILE|- [options]                  analyse a pcap or pcapng file (gzip too), or one piped on stdin
  kwire check FILE|- [--fail-on LEVEL] [options]   the same as a CI gate: exit 1 when a finding at or above LEVEL exists
  kwire sniff -i IFACE [BPF EXPRESSION...] [options]   the same, live from a network interface, until Ctrl-C
  kwire report [--db PATH] [--format text|json|markdown]   what a run stored, from the database
  kwire tui [--db PATH] [--capture ID]         dashboard over the database, live while a run writes it

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
  sniff: `Usage: kwire sniff -i IFACE [BPF EXPRESSION...] [options] [--duration S] [--count N] [--backend auto|cap|tcpdump] [--write FILE] [-B KiB]

Captures from a network interface and analyses the packets as they come, as 'kwire read' does a
file: connections are finished as they close or go idle (by the wall clock too), stored and
streamed (--ndjson) as they end. Ctrl-C (SIGINT) or SIGTERM stops it: every connection is
finished, the database written and the summary printed, and the exit status is 0. The filter is a
BPF expression as tcpdump takes it. Needs root, or node with the capture capabilities
(setcap cap_net_raw,cap_net_admin+eip $(command -v node)).

  -i IFACE         the interface (any: all of them)
  --duration S     stop after S seconds
  -c, --count N    stop after N packets
  -w, --write FILE also save the raw packets as pcapng (as tcpdump -w), to replay with 'kwire read FILE'
  --backend NAME   auto (default: cap when it loaded, else tcpdump); cap (libpcap through the optional
                   cap module, in a capture process of kwire's: timestamps taken on arrival, kernel
                   drops unknown); or tcpdump (tcpdump -i IFACE -B KiB -U -s 0 -w - FILTER: the
                   kernel's timestamps and drop counts; packets arrive up to a second late, and a
                   stop waits that second so that none is lost)
  -B, --buffer-size KiB
                   the kernel's capture buffer, as tcpdump -B: packets wait there while kwire is
                   busy, and the kernel drops them past it (default ${TCPDUMP_BUFFER_KIB} with tcpdump;
                   ${CAP_BUFFER_KIB} with cap, where each packet takes a slot sized for the largest: on
                   an interface with offloads, about 1,000 packets)

${COMMON_OPTIONS}

Exit status: 0 success (also when the interface goes down mid-capture: kwire warns and keeps every
connection); 2 bad usage, no such interface, no permission, a bad filter, or no backend.

Examples:
  sudo kwire sniff -i eth0 'tcp port 6443 or tcp port 10250' --cluster cluster.yaml
  sudo kwire sniff -i any tcp --duration 60 --write node1.pcapng -q && kwire read node1.pcapng
  sudo kwire sniff -i eth0 tcp --ndjson | jq -c 'select(.type == "finding") | {rule, path, title}'`,
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
  tui: `Usage: kwire tui [--db PATH] [--capture ID]

A terminal dashboard over the database that 'kwire read', 'kwire check' and 'kwire sniff' write:
the path matrix of the Kubernetes page with rates and progress (1), the connections (2), one
connection in detail — TLS handshake ladder, certificate chains, HTTP requests, findings with
their evidence and fix (3), and the findings by rule (4). It refreshes while a run writes the
database, and moves to a newer run when one starts.

  --db PATH     the database (default ${DEFAULT_DB} in the working directory)
  --capture ID  which run to show (default: the latest, following newer ones)

Keys: ↑↓ or j k move, PgUp PgDn, g G first and last, Enter open, Esc back, Tab or 1-4 views,
/ filter the connections (words in addresses, names, path, SNI, rule ids), s sort (time,
severity, bytes, path), ? help, q quit.

Exit status: 0 after q; 2 bad usage (stdout not a terminal), or a database that is missing, not
kwire's, or from a newer kwire.

Examples:
  kwire tui
  tcpdump -i eth0 -U -w - 'tcp port 6443 or tcp port 10250' | kwire read - --db live.db -q & kwire tui --db live.db
  kwire read node1.pcap --cluster cluster.yaml --tui`,
};
