/**
 * What analyzers/ learn about a connection: the `protocol`, `tls`, `http` and `ssh` parts of
 * SPEC.md §5, as one record per flow (Zeek's habit: one documented record, written when the
 * connection ends). Unknown is null, never a guess.
 */

export type Protocol = 'tls' | 'http' | 'h2c' | 'ssh' | 'unknown';

/** Which side sent something. */
export type Side = 'client' | 'server';

/** How a fact about client authentication was established. */
export type Evidence = 'observed' | 'decrypted' | 'inferred' | 'unknown';

export type CertVerdict = 'trusted' | 'untrusted' | 'self-signed' | 'expired' | 'name-mismatch' | 'unknown';

export interface CertificateInfo {
  /** RFC 4514 order as tshark and openssl print it, e.g. `CN=node1@1700000000`. */
  subject: string;
  issuer: string;
  /** Hex, upper case, as openssl prints it. */
  serial: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string;
  selfSigned: boolean;
  /** `DNS:name`, `IP:address`, `URI:…`, `email:…`. */
  san: string[];
  /** `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA`. */
  keyType: string;
  /** Bits (RSA modulus, EC curve size). */
  keySize: number | null;
  /** EC curve name (`prime256v1`, `secp384r1`), else null. */
  curve: string | null;
  isCA: boolean;
  keyUsage: string[];
  /** Extended key usages by name (`serverAuth`, `clientAuth`) or OID. */
  extKeyUsage: string[];
}

/** One handshake message, for the ladder of the flow detail view. */
export interface HandshakeStep {
  from: Side;
  /** `ClientHello`, `Certificate`, `ChangeCipherSpec`, `EncryptedRecord`, `Alert` … */
  message: string;
  /** Bytes of the message (or of the encrypted record). */
  length: number;
  /** Capture time, seconds. */
  ts: number;
  /** Packet number (Frame.index) that completed the message, as tshark shows a reassembled PDU. */
  packet: number;
}

export interface TlsAlert {
  from: Side;
  level: 'warning' | 'fatal' | 'unknown';
  description: string;
  /** True when the alert was seen in clear (TLS 1.2 and below, or before encryption). */
  inClear: boolean;
  /** True when the alert was read from a decrypted record (a key log): its description is real, not inferred. */
  decrypted?: boolean;
  /** Packet number of the alert record (for an inferred TLS 1.3 alert, of the encrypted record taken for it). */
  packet: number;
}

/** What a key log let kwire decrypt of a TLS connection (present when a key store was given). */
export interface TlsDecryptionInfo {
  /** Handshake records were decrypted (TLS 1.3: the server's flight; TLS 1.2: a Finished). */
  handshake: boolean;
  /** Application data records were decrypted and handed to the HTTP analyzers. */
  applicationData: boolean;
  /** Why decryption did not happen or stopped (no secrets, a suite not decrypted, a record that failed authentication), else null. */
  failure: string | null;
}

export interface TlsInfo {
  /** Negotiated version: `1.0` … `1.3`, `SSLv3`, `SSLv2`, or a draft name; null before a ServerHello. */
  version: string | null;
  /** The client's highest offered version (supported_versions or legacy_version). */
  clientVersion: string | null;
  sni: string | null;
  /** ALPN protocols the client offered, and the one the server chose. */
  alpnOffered: string[];
  alpn: string | null;
  /** IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`; hex code when unnamed. */
  cipher: string | null;
  /** Both sides sent application data after the handshake. */
  established: boolean;
  /** Session resumption (session id or ticket echoed in TLS ≤ 1.2; pre_shared_key chosen in 1.3). */
  resumed: boolean;
  helloRetryRequest: boolean;
  clientCertRequested: boolean | null;
  clientCertPresented: boolean | null;
  clientAuthEvidence: Evidence;
  /** The CertificateRequest's certificate_authorities (distinguished names), when seen. */
  requestedCAs: string[];
  serverChain: CertificateInfo[];
  clientChain: CertificateInfo[];
  serverCertVerdict: CertVerdict;
  /** Why the verdict is what it is, in a few words (e.g. `issuer CN=node1-ca@1700000000 is not a trust anchor`). */
  serverCertReason: string | null;
  alert: TlsAlert | null;
  ja4: string | null;
  /** Handshake messages in order (bounded), for the ladder. */
  handshake: HandshakeStep[];
  /** Why the analyzer stopped early (`gap`, `record too large`, `not TLS` …), else null. */
  stopped: string | null;
  /** Decryption with a key log: absent when no key log was given. */
  decrypted?: TlsDecryptionInfo;
}

/** A credential reduced to what may be shown: never the token itself. */
export interface CredentialInfo {
  /** `bearer-jwt`, `bearer`, `basic`, `bootstrap-token`, `other`. */
  kind: string;
  /** First 12 hex digits of the SHA-256 of the credential. */
  sha256Prefix: string;
  /** For a JWT: the claims that identify it; null otherwise. */
  jwt: { iss: string | null; sub: string | null; aud: string[] | null; exp: number | null } | null;
  /** Header it was found in. */
  header: string;
}

/** What a request's URL says in Kubernetes terms (k8s-paths.md §2–4). */
export interface K8sUrlShape {
  /**
   * The table in src/analyzers/http1/k8s-urls.ts. Kubelet routes: `kubelet-logs`
   * (/containerLogs), `kubelet-exec`, `kubelet-attach`, `kubelet-portforward`, `kubelet-run`,
   * `kubelet-checkpoint` (namespace and name = pod), `kubelet-stats`, `kubelet-pods` (/pods,
   * /runningpods/), `kubelet-metrics` (/metrics/cadvisor|resource|probes), `kubelet-node-logs`
   * (/logs/), `kubelet-spec`. Served by kubelets and control-plane components alike (the port
   * tells them apart): `metrics`, `configz`, `debug` (/debug/pprof, /debug/flags), `health`
   * (/healthz, /livez, /readyz). Apiserver: `apiserver-proxy-pod`, `apiserver-proxy-service`
   * (namespace, name without scheme or port), `apiserver-proxy-node` (name = node);
   * `apiserver-exec`, `apiserver-attach`, `apiserver-portforward`, `apiserver-log` (pod
   * subresources); `apiserver-api` (/api, /apis, /version, /openapi; namespace and name for
   * namespaced objects). `other`: a request with X-Forwarded-Uri whose URLs match no row.
   */
  kind: string;
  namespace: string | null;
  name: string | null;
  /** The apiserver proxy's X-Forwarded-Uri on a backend request, when present. */
  forwardedUri: string | null;
}

export interface HttpRequestInfo {
  method: string;
  target: string;
  host: string | null;
  /** Response status, null when no response was seen. */
  status: number | null;
  auth: 'none' | 'bearer' | 'basic' | 'other';
  credentials: CredentialInfo[];
  /** `SPDY/3.1`, `websocket`, `h2c` when the request asked to switch protocols. */
  upgrade: string | null;
  /** X-Stream-Protocol-Version or Sec-WebSocket-Protocol: the Kubernetes stream protocol. */
  streamProtocol: string | null;
  k8s: K8sUrlShape | null;
  ts: number;
  /** Packet numbers that completed the request's header block and the response's status line (null before a response). */
  packet: number;
  responsePacket: number | null;
}

export interface HttpInfo {
  /** `1.0`, `1.1`, or `2` (h2c, or HTTP/2 decrypted from TLS). */
  version: string | null;
  requests: HttpRequestInfo[];
  /** Requests beyond the bounded list, counted. */
  moreRequests: number;
  /** HTTP/2: the client's preface was seen, and the SETTINGS of both sides. */
  h2: {
    preface: boolean;
    clientSettings: Record<string, number> | null;
    serverSettings: Record<string, number> | null;
    /** Frames of both sides counted by type name (`DATA`, `HEADERS` …; unknown types as `0x…`). */
    frames: Record<string, number>;
  } | null;
  stopped: string | null;
}

export interface SshInfo {
  clientBanner: string | null;
  serverBanner: string | null;
}

/** All an analyzer learnt of one flow. */
export interface FlowAnalysis {
  protocol: Protocol;
  tls: TlsInfo | null;
  http: HttpInfo | null;
  ssh: SshInfo | null;
}
