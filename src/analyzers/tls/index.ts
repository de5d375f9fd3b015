/** The TLS analyzer's public face for the dispatcher (analyzers/index.ts). */
export { TlsAnalyzer, newTlsInfo, type CertificateRequestInfo } from './analyzer.js';
export type { ClientHelloInfo, ServerHelloInfo } from './hello.js';
export type { EncryptedRecord, Tls13ClientAuthInference } from './encrypted-records.js';
export { cipherName, versionName, alertName } from './names.js';
export { ja4 } from './ja4.js';
