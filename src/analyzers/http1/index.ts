export { Http1Analyzer, newHttpInfo } from './http1.js';
export { k8sShape } from './k8s-urls.js';
