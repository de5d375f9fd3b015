import { describe, expect, it } from 'vitest';
import { K8S_URLS, k8sShape } from './k8s-urls.js';

/** [target, kind, namespace, name] — one row or more for every kind of the table. */
const CASES: Array<[string, string, string | null, string | null]> = [
  ['/containerLogs/kube-system/coredns-5d78c9869d-abcde/coredns?follow=true&tailLines=10', 'kubelet-logs', 'kube-system', 'coredns-5d78c9869d-abcde'],
  ['/exec/default/web/nginx?command=sh&input=1&output=1&tty=1', 'kubelet-exec', 'default', 'web'],
  ['/exec/default/web/0f9e8d7c-1111-2222-3333-444455556666/nginx?command=ls', 'kubelet-exec', 'default', 'web'],
  ['/attach/default/web/nginx?input=1&output=1', 'kubelet-attach', 'default', 'web'],
  ['/run/default/web/nginx', 'kubelet-run', 'default', 'web'],
  ['/portForward/default/web?port=80,443', 'kubelet-portforward', 'default', 'web'],
  ['/portForward/default/web/0f9e8d7c-1111', 'kubelet-portforward', 'default', 'web'],
  ['/checkpoint/default/web/nginx', 'kubelet-checkpoint', 'default', 'web'],
  ['/stats/summary', 'kubelet-stats', null, null],
  ['/stats', 'kubelet-stats', null, null],
  ['/pods', 'kubelet-pods', null, null],
  ['/runningpods/', 'kubelet-pods', null, null],
  ['/metrics/cadvisor', 'kubelet-metrics', null, null],
  ['/metrics/resource', 'kubelet-metrics', null, null],
  ['/metrics/probes', 'kubelet-metrics', null, null],
  ['/logs/', 'kubelet-node-logs', null, null],
  ['/logs/syslog?query=x', 'kubelet-node-logs', null, null],
  ['/spec/', 'kubelet-spec', null, null],
  ['/metrics', 'metrics', null, null],
  ['/configz', 'configz', null, null],
  ['/debug/pprof/heap', 'debug', null, null],
  ['/debug/flags/v', 'debug', null, null],
  ['/healthz', 'health', null, null],
  ['/livez?verbose', 'health', null, null],
  ['/readyz/etcd', 'health', null, null],
  ['/api/v1/namespaces/default/pods/web/proxy/', 'apiserver-proxy-pod', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/web:8080/proxy/index.html', 'apiserver-proxy-pod', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/https:web:8443/proxy/', 'apiserver-proxy-pod', 'default', 'web'],
  ['/api/v1/namespaces/monitoring/services/grafana/proxy/api/health', 'apiserver-proxy-service', 'monitoring', 'grafana'],
  ['/api/v1/namespaces/kube-system/services/https:kubernetes-dashboard:/proxy/', 'apiserver-proxy-service', 'kube-system', 'kubernetes-dashboard'],
  ['/api/v1/namespaces/default/services/web:http/proxy', 'apiserver-proxy-service', 'default', 'web'],
  ['/api/v1/nodes/node1/proxy/metrics', 'apiserver-proxy-node', null, 'node1'],
  ['/api/v1/nodes/node1:10250/proxy/pods', 'apiserver-proxy-node', null, 'node1'],
  ['/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&tty=true&container=nginx', 'apiserver-exec', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/web/attach?stdout=true', 'apiserver-attach', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/web/portforward?ports=8080', 'apiserver-portforward', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/web/log?follow=true', 'apiserver-log', 'default', 'web'],
  ['/api/v1/namespaces/default/pods/web', 'apiserver-api', 'default', 'web'],
  ['/api/v1/namespaces/default/secrets', 'apiserver-api', 'default', null],
  ['/apis/apps/v1/namespaces/prod/deployments/api?watch=1', 'apiserver-api', 'prod', 'api'],
  ['/api', 'apiserver-api', null, null],
  ['/apis', 'apiserver-api', null, null],
  ['/api/v1/nodes', 'apiserver-api', null, null],
  ['/version', 'apiserver-api', null, null],
  ['/openapi/v3', 'apiserver-api', null, null],
  ['https://10.0.0.1:6443/api/v1/namespaces/default/pods/web/exec', 'apiserver-exec', 'default', 'web'],
];

describe('Kubernetes URL shapes', () => {
  it.each(CASES)('%s → %s', (target, kind, namespace, name) => {
    expect(k8sShape(target, null)).toEqual({ kind, namespace, name, forwardedUri: null });
  });

  it('covers every kind of the table', () => {
    expect(new Set(CASES.map((c) => c[1]))).toEqual(new Set(K8S_URLS.map((r) => r.kind)));
  });

  it('leaves other paths alone', () => {
    for (const target of ['/', '/index.html', '/execute', '/apiary', '/containerLogs/ns', '*']) expect(k8sShape(target, null)).toBeNull();
  });

  it("takes a backend request's shape from the apiserver proxy's X-Forwarded-Uri", () => {
    expect(k8sShape('/metrics', '/api/v1/namespaces/monitoring/pods/prom-0:9090/proxy/metrics')).toEqual({
      kind: 'apiserver-proxy-pod',
      namespace: 'monitoring',
      name: 'prom-0',
      forwardedUri: '/api/v1/namespaces/monitoring/pods/prom-0:9090/proxy/metrics',
    });
    expect(k8sShape('/stats/summary', '/somewhere/else')).toEqual({ kind: 'kubelet-stats', namespace: null, name: null, forwardedUri: '/somewhere/else' });
    expect(k8sShape('/x', '/y')).toEqual({ kind: 'other', namespace: null, name: null, forwardedUri: '/y' });
  });
});
