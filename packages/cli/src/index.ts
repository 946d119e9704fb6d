export { CliError, describeFailure } from './cli-error.js';
