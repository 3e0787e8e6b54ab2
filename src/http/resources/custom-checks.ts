import type { Router } from 'express';
import { queryBool, sendJson } from '../toolkit';
import { customCheckView } from '../views/custom-check';
import { sendHealthView, type ResourceContext } from './context';

/**
 * `/api/v1/health/<name>` for each of the app's own checks (names known at start, validated not
 * to shadow another endpoint). Answers from the stored result; `?details=true` like the database.
 */
export function mountCustomChecks(router: Router, ctx: ResourceContext, names: readonly string[]): void {
  const { service, meta, guard } = ctx;
  for (const name of names) {
    const path = `/api/v1/health/${name}`;
    router.get(path, ...guard(path), (req, res) => {
      const v = customCheckView(service.report(), name, queryBool(req, 'details'));
      if (v === undefined) return sendJson(res, 404, { error: `no check named ${name}` });
      sendHealthView(req, res, meta, v);
    });
  }
}
