/** k8s/: roles, paths and via of SPEC.md §2–§3, from the cluster file and what the flows show. */
export { loadClusterFile, parseCluster, type ClusterInfo } from './cluster.js';
export { PathResolver } from './resolver.js';
