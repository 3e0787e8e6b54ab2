import type { Logger } from 'pino';
import { parseRule, type EffectiveRule, type Rule } from './rules';
import type { RuleOverride } from './store';

/**
 * The effective rules: defaults, overridden by the config file, overridden by rules replaced
 * through the API (kept in the store, so every replica picks them up at its next evaluation and a
 * restart keeps them).
 */
export class RuleRegistry {
  private readonly base: ReadonlyMap<string, EffectiveRule>;
  private overrides = new Map<string, EffectiveRule>();
  private changes = 0;
  private readonly reported = new Set<string>();

  constructor(
    base: readonly EffectiveRule[],
    private readonly logger: Logger,
  ) {
    this.base = new Map(base.map((r) => [r.rule.id, r]));
  }

  all(): EffectiveRule[] {
    const out: EffectiveRule[] = [];
    for (const [id, r] of this.base) out.push(this.overrides.get(id) ?? r);
    for (const [id, r] of this.overrides) if (!this.base.has(id)) out.push(r);
    return out;
  }

  rules(): Rule[] {
    return this.all().map((r) => r.rule);
  }

  get(id: string): EffectiveRule | undefined {
    return this.overrides.get(id) ?? this.base.get(id);
  }

  /** Replaces the API overrides with the store's (invalid ones are logged once and skipped). */
  applyOverrides(rows: readonly RuleOverride[]): void {
    const next = new Map<string, EffectiveRule>();
    for (const row of rows) {
      const { rule, errors } = parseRule(row.definition, 'rule');
      if (rule === undefined) {
        const key = `${JSON.stringify(row.definition)}@${row.updatedAt}`;
        if (!this.reported.has(key)) {
          this.reported.add(key);
          this.logger.error({ errors, updatedAt: row.updatedAt }, 'alerts: a rule stored through the API is no longer valid; using the file/default version');
        }
        continue;
      }
      next.set(rule.id, { rule, source: 'api', updatedAt: row.updatedAt, updatedBy: row.updatedBy });
    }
    this.overrides = next;
  }

  /** Bumped by every `set`: a read of the store's overrides begun before it is older than the registry. */
  get version(): number {
    return this.changes;
  }

  set(rule: Rule, by: string, at: number): EffectiveRule {
    this.changes++;
    const e: EffectiveRule = { rule, source: 'api', updatedAt: new Date(at).toISOString(), updatedBy: by };
    this.overrides.set(rule.id, e);
    return e;
  }
}
