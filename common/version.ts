import { PACKAGE_VERSION } from './package-root';

/**
 * Chatpulse's version, from its own package.json: the one version source for the CLI, the
 * health endpoints, the status page and the instrumentation scope.
 */
export const VERSION: string = PACKAGE_VERSION ?? '0.0.0';
