/**
 * Command-line parsing for every command: one table of options, node:util's parseArgs, and a
 * usage error (exit 2) that says what was wrong.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KwireError } from '../model/errors.js';

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
}

const readOptions = {
  json: { type: 'boolean', default: false },
  ndjson: { type: 'boolean', default: false },
  'no-db': { type: 'boolean', default: false },
  streams: { type: 'string' },
  cluster: { type: 'string' },
  ca: { type: 'string', multiple: true, default: [] },
  quiet: { type: 'boolean', short: 'q', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies ParseArgsConfig['options'];

export type ParsedCommand =
  | { command: 'help'; topic: string | null }
  | { command: 'version' }
  | { command: 'read'; options: ReadOptions };

export function parseCommandLine(argv: string[]): ParsedCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help', topic: rest[0] ?? null };
  }
  if (command === '--version' || command === 'version') return { command: 'version' };
  if (command !== 'read') throw new UsageError(`unknown command '${command}' (see 'kwire --help')`);

  const { values, positionals } = parseOrExplain(rest, readOptions);
  if (values.help) return { command: 'help', topic: 'read' };
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? "read: name a capture file, or '-' for stdin" : `read: one capture at a time (got ${positionals.length})`);
  }
  if (values.json && values.ndjson) throw new UsageError('read: --json and --ndjson are exclusive');
  return {
    command: 'read',
    options: {
      input: positionals[0],
      json: values.json,
      ndjson: values.ndjson,
      quiet: values.quiet,
      streamsDir: values.streams ?? null,
      cluster: values.cluster ?? null,
      ca: values.ca,
    },
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

export const usage: Record<string, string> = {
  main: `kwire — which Kubernetes control-plane paths are not safe on an untrusted network, from the packets

Usage:
  kwire read FILE|- [options]    analyse a pcap or pcapng file (gzip too), or one piped on stdin

Run 'kwire read --help' for the options and examples.`,
  read: `Usage: kwire read FILE|- [options]

Reads a pcap or pcapng capture (optionally gzip-compressed) as a stream, reassembles every TCP
connection and prints what it found.

Options:
  --json          print the whole result as one JSON document on stdout
  --ndjson        print one JSON record per line: a "flow" record as each connection ends, then a "capture" record
  --cluster PATH  cluster file (YAML or JSON: apiservers, nodes, podCIDRs, kubernetesServiceIP, etcd, ca …),
                  or the output of 'kubectl get nodes,pods,services -A -o json'; names each connection's
                  path from it, and infers what it does not say (port 6443, certificate names, kubelet URLs)
  --ca PATH       PEM bundle of trust anchors, such as the cluster CA (repeatable); server certificates
                  are verified against these and the cluster file's 'ca'
  --streams DIR   write each connection direction's reassembled bytes to DIR, named as tcpflow names them
  --no-db         write no database (the default until the store lands)
  -q, --quiet     no progress line and no warnings summary on stderr

Exit status: 0 success (also for a capture cut short: kwire warns with the byte offset and keeps
every connection up to the damage); 2 bad usage or an input that is not a capture.

Examples:
  kwire read captures/sample-tls-http.pcap
  kwire read node1.pcap.gz --json | jq '.flows[] | select(.gaps.c2s > 0)'
  tcpdump -i eth0 -U -w - 'tcp port 6443 or tcp port 10250' | kwire read -
  kwire read capture.pcapng --streams /tmp/streams
  kwire read node1.pcap --cluster cluster.yaml --ca /etc/kubernetes/pki/ca.crt
  kubectl get nodes,pods,services -A -o json > cluster.json && kwire read node1.pcap --cluster cluster.json --json | jq '.flows[] | {id, path, roles}'`,
};
