/**
 * TLS records that were sent encrypted, as the record layer sees them without keys: who sent
 * them, how long they were, and in what order. TLS 1.3 hides the certificates and the
 * CertificateRequest, but not these (issue 3: "record sizes and counts are not").
 */
import type { Side } from '../../model/protocol.js';

export interface EncryptedRecord {
  from: Side;
  /** Outer content type: 23 application_data for TLS 1.3 handshake messages and data; 21 alert. */
  contentType: number;
  /** Length of the record's payload (the 5-byte header excluded), as in its header. */
  length: number;
  /** Capture time of the record's first byte, seconds. */
  ts: number;
  /** Number of the packet that completed the record, where tshark shows it. */
  packet: number;
}

/** What a keyless observer can say of TLS 1.3 client authentication. Null: the sizes cannot tell. */
export interface Tls13ClientAuthInference {
  clientCertRequested: boolean | null;
  clientCertPresented: boolean | null;
  /** A small encrypted alert right after the other side's flight, then the end: the handshake was rejected. */
  rejected: boolean;
  /** Who sent that alert (not always the last sender: curl may send more after the server's alert). */
  rejectedBy: Side | null;
  /** A sentence on which records led to the conclusion, for the finding's evidence. */
  reasoning: string;
}
