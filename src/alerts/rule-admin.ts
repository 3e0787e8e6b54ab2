import type { Logger } from 'pino';
import type { PutRuleResult } from './core';
import { readUnlessOvertaken } from './fresh-read';
import type { RuleRegistry } from './rule-registry';
import { parseRule } from './rules';
import { writeRuleToFile } from './rules-file';
import type { AlertStore } from './store';

export interface RuleAdminOptions {
  readonly store: AlertStore;
  readonly registry: RuleRegistry;
  /** The config file the rules came from; a replaced rule is written back to it. */
  readonly file: string | undefined;
  readonly logger: Logger;
  readonly now: () => number;
  /** A rule changed: evaluate soon. */
  readonly onChanged: () => void;
}

/**
 * Rule administration: replacing a rule through the API (validated, stored as an override every
 * replica applies, written back to the config file when there is one) and applying the other
 * replicas' overrides.
 */
export class RuleAdmin {
  constructor(private readonly o: RuleAdminOptions) {}

  /** A read that a rule change of this replica overtook is not applied (see fresh-read.ts). */
  async refreshOverrides(): Promise<void> {
    if (!this.o.store.durable) return;
    const rows = await readUnlessOvertaken(() => this.o.registry.version, () => this.o.store.ruleOverrides());
    if (rows !== undefined) this.o.registry.applyOverrides(rows);
  }

  async putRule(id: string, body: unknown, by: string): Promise<PutRuleResult> {
    const { store, registry, file: configFile, logger } = this.o;
    await this.refreshOverrides();
    const existing = registry.get(id);
    if (existing === undefined) return { status: 404, error: `unknown rule id: ${id} (GET /api/v1/health/alerts/rules lists them)` };
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { status: 400, error: 'rule: expected a JSON object with the complete rule' };
    const b = body as Record<string, unknown>;
    if (b.id !== undefined && b.id !== id) return { status: 400, error: `id: ${JSON.stringify(b.id)} does not match the rule in the path (${id})` };
    const { rule, errors } = parseRule({ ...b, id }, '');
    if (rule === undefined) return { status: 400, error: errors.join('; '), errors };
    const at = this.o.now();
    await store.putRuleOverride(rule, by, at);
    const effective = registry.set(rule, by, at);
    let file: { path: string; written: boolean; error?: string } | null = null;
    if (configFile !== undefined) {
      try {
        await writeRuleToFile(configFile, rule);
        file = { path: configFile, written: true };
      } catch (err) {
        file = { path: configFile, written: false, error: (err as Error).message };
        logger.warn({ err: (err as Error).message, file: configFile, rule: id }, 'alerts: rule replaced but not written to the config file');
      }
    }
    logger.info({ rule: id, by }, 'alerts: rule replaced through the API');
    this.o.onChanged();
    return { status: 200, rule: effective, file };
  }
}
