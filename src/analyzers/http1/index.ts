export { Http1Analyzer, newHttpInfo, requestRecord, storeRequest, type Headers } from './http1.js';
export { k8sShape } from './k8s-urls.js';
