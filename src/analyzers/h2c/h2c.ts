/**
 * Plaintext HTTP/2 (h2c) is HTTP/2 without TLS: the same analyzer as decrypted HTTP/2
 * (analyzers/http2/), kept under this name for the dispatcher's `h2c` protocol and the HTTP/1
 * `Upgrade: h2c` hand-over.
 */
export { Http2Analyzer as H2cAnalyzer, H2_PREFACE } from '../http2/http2.js';
