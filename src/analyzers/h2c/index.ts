export { H2cAnalyzer } from './h2c.js';
