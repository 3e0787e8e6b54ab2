// Bundles the status page's client (src/ui/client/*.ts, type-checked by tsc with its own
// tsconfig) into the one classic script the page loads: dist/ui/app.js. One file keeps the
// asset URL, its ticket and the CSP as they are (ES modules would fetch their imports without
// the ticket). Any warning fails the build: an unresolved import would be a broken page.
export default {
  input: 'src/ui/client/main.ts',
  platform: 'browser',
  tsconfig: 'src/ui/client/tsconfig.json',
  transform: { target: 'es2022' },
  onLog(level, log, handler) {
    handler(level === 'warn' ? 'error' : level, log);
  },
  // Strict as the modules it comes from (an IIFE is not a module).
  output: { file: 'dist/ui/app.js', format: 'iife', strict: true },
};
