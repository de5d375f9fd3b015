export { parseCertificate } from './certificate.js';
export { TrustAnchors } from './anchors.js';
export { chainVerdict, type ChainVerdict, type ChainVerdictOptions } from './verdict.js';
export { formatDistinguishedName } from './name.js';
