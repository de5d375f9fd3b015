/** The TLS analyzer's public face for the dispatcher (analyzers/index.ts). */
export { TlsAnalyzer, newTlsInfo, type CertificateRequestInfo, type TlsAnalyzerOptions } from './analyzer.js';
export { KeyLog, KeyLogFile, loadKeyLogFile, TLS_KEY_LOG_SECRETS, type SessionSecrets } from './keylog.js';
export type { ClientHelloInfo, ServerHelloInfo } from './hello.js';
export type { EncryptedRecord, Tls13ClientAuthInference } from './encrypted-records.js';
export { cipherName, versionName, alertName } from './names.js';
export { ja4 } from './ja4.js';
