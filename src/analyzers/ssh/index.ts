export { SshAnalyzer, newSshInfo } from './ssh.js';
