export { Http2Analyzer, H2_PREFACE } from './http2.js';
export { HpackDecoder } from './hpack.js';
export { huffmanDecode } from './huffman.js';
