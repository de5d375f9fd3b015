/**
 * What the rules read of a finished flow, and how they cite it: packet numbers of handshake
 * messages and requests, certificate fingerprints, credentials by kind and hash prefix only.
 */
import type { CommPath, FlowJson } from '../model/document.js';
import type { CertificateInfo, CredentialInfo, HandshakeStep, HttpRequestInfo, Side, TlsInfo } from '../model/protocol.js';
import type { EvidenceBasis } from '../model/finding.js';

export interface RuleContext {
  /** Trust anchors were given (--ca, the cluster file's ca): without them only a self-made chain is judged. */
  anchorsGiven: boolean;
  /** Packet number of the flow's first packet (FlowRecord.firstPacket). */
  firstPacket: number;
}

/**
 * How the certificates of a handshake are known: TLS 1.3 sends them encrypted, so they were
 * decrypted (a key log); in TLS 1.2 and below they are in clear.
 */
export function certificateBasis(tls: TlsInfo): EvidenceBasis {
  return tls.version === '1.3' && tls.decrypted?.handshake ? 'decrypted' : 'observed';
}

/** Requests seen inside TLS were decrypted; in HTTP or h2c they were observed. */
export const requestBasis = (flow: FlowJson): EvidenceBasis => (flow.tls ? 'decrypted' : 'observed');

/** Paths on which the control plane's own traffic runs: every path but `other`. */
export const controlPlane = (flow: FlowJson): boolean => flow.path !== 'other';

export const PROXY_PATHS: ReadonlySet<CommPath> = new Set(['apiserver->pod', 'apiserver->service', 'apiserver->node']);

export const toApiserver = (path: CommPath): boolean => path.endsWith('->apiserver');
export const toKubelet = (path: CommPath): boolean => path.endsWith('->kubelet');

/** HTTP/1.x or h2c without TLS around it. */
export const cleartextHttp = (flow: FlowJson): boolean => flow.protocol === 'http' || flow.protocol === 'h2c';

export const requests = (flow: FlowJson): HttpRequestInfo[] => flow.http?.requests ?? [];

/** Packet numbers of the ladder steps `from` sent with these message names, in order. */
export function stepPackets(flow: FlowJson, from: Side, ...messages: string[]): number[] {
  return (flow.tls?.handshake ?? []).filter((step: HandshakeStep) => step.from === from && messages.includes(step.message)).map((step) => step.packet);
}

/** Sorted, without duplicates: evidence lists read like tshark's frame numbers. */
export function packetList(...groups: (number | null | undefined | number[])[]): number[] {
  const all = groups.flat().filter((n): n is number => typeof n === 'number' && n > 0);
  return [...new Set(all)].sort((a, b) => a - b);
}

/** `GET /pods → 200` (the target's query left out: it may carry a token). */
export function requestLine(request: HttpRequestInfo): string {
  const path = request.target.split('?')[0];
  return `${request.method} ${path} → ${request.status ?? 'no response'}`;
}

/** `bearer-jwt in Authorization (sha256 1a2b3c4d5e6f…, sub system:serviceaccount:default:web)`: never the secret. */
export function credentialText(credential: CredentialInfo): string {
  const claims = credential.jwt ? [credential.jwt.sub && `sub ${credential.jwt.sub}`, credential.jwt.iss && `iss ${credential.jwt.iss}`].filter(Boolean) : [];
  return `${credential.kind} in ${credential.header} (sha256 ${credential.sha256Prefix}…${claims.length ? `, ${claims.join(', ')}` : ''})`;
}

/** Certificates not valid at `ts` (seconds), with why. */
export function outOfValidity(chain: CertificateInfo[], ts: number): { certificate: CertificateInfo; why: string }[] {
  const at = ts * 1000;
  return chain.flatMap((certificate) => {
    if (at > Date.parse(certificate.notAfter)) return [{ certificate, why: `expired ${certificate.notAfter}` }];
    if (at < Date.parse(certificate.notBefore)) return [{ certificate, why: `not valid before ${certificate.notBefore}` }];
    return [];
  });
}

/**
 * A chain no CA could have issued for a cluster: a self-signed leaf, or the kubelet's default
 * `<host>@<ts>` leaf issued by its own `<host>-ca@<ts>` (k8s-paths.md §5). Judged without anchors.
 */
export function selfMadeChain(chain: CertificateInfo[]): boolean {
  const leaf = chain[0];
  return leaf !== undefined && (leaf.selfSigned || /(?:^|,)CN=[^,]+-ca@\d+(?:,|$)/.test(leaf.issuer));
}
