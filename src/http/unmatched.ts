import type { Request, RequestHandler, Response, Router } from 'express';
import { sendJson } from './toolkit';

/** The paths Chatpulse owns: an unmatched request under one of them is answered here, in JSON. */
export const OWNED_PREFIXES: readonly string[] = Object.freeze(['/api/v1/health', '/api/metrics/streaming', '/api/metrics/health', '/health']);

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  match(path: string): unknown;
}

function owned(path: string): boolean {
  return OWNED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

/** The methods the router's routes serve at `path` (HEAD with GET, as Express answers it). */
export function allowedMethods(router: Router, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of router.stack as unknown as RouteLayer[]) {
    if (layer.route === undefined) continue;
    let hit: unknown;
    try {
      hit = layer.match(path);
    } catch {
      // A malformed percent-encoding: the path matches as far as routing goes.
      hit = true;
    }
    if (!hit) continue;
    for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') methods.add(m.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/**
 * The router's last route: a request under Chatpulse's paths that no route took. A known path
 * asked with another method is a JSON 405 with `Allow` (OPTIONS: 204 with `Allow`), anything else
 * a JSON 404; in place of Express's HTML "Cannot DELETE" page. Paths outside Chatpulse's are the
 * host app's (the router may be mounted at its root) and pass on.
 */
export function unmatched(router: Router): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (!owned(req.path)) return next();
    const allow = allowedMethods(router, req.path);
    if (allow.length === 0) return sendJson(res, 404, { error: `no such endpoint: ${req.method} ${req.path.slice(0, 200)}` });
    res.setHeader('Allow', allow.join(', '));
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      return void res.end();
    }
    sendJson(res, 405, { error: `method ${req.method} not allowed on ${req.path.slice(0, 200)} (allowed: ${allow.join(', ')})`, allow });
  };
}
