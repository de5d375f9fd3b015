export { PacketDecoder, Layer, DECODE_ERRORS, type DecoderOptions, type DecodeErrorCounts } from './decoder.js';
export { formatAddress } from './address.js';
export { FragmentReassembler, DEFAULT_FRAGMENT_LIMITS, type FragmentLimits, type Fragment, type FragmentOutcome, type ReassembledDatagram } from './fragments.js';
export { decodeTcp, parseTcpOptions } from './tcp.js';
