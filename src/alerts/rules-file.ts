import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { ruleToInput, type Rule } from './rules';

/**
 * Writes a rule replaced through the API back into the health config file (`alerts.rules`), so the
 * file stays the place rules live. YAML files keep their comments and layout elsewhere; JSON files
 * are rewritten with two-space indentation. The write is atomic (temporary file, then rename).
 */
export async function writeRuleToFile(file: string, rule: Rule): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  const entry = ruleToInput(rule);
  let out: string;
  if (/\.json$/i.test(file)) {
    const data = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error(`${file}: expected an object at the top level`);
    const alerts = (data.alerts ?? {}) as Record<string, unknown>;
    const rules = Array.isArray(alerts.rules) ? [...(alerts.rules as unknown[])] : [];
    const i = rules.findIndex((r) => (r as { id?: unknown } | null)?.id === rule.id);
    if (i >= 0) rules[i] = entry;
    else rules.push(entry);
    data.alerts = { ...alerts, rules };
    out = `${JSON.stringify(data, null, 2)}\n`;
  } else {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    if (doc.contents === null) doc.contents = new YAMLMap() as unknown as typeof doc.contents;
    if (!isMap(doc.contents)) throw new Error(`${file}: expected a mapping at the top level`);
    const rules = doc.getIn(['alerts', 'rules']);
    const node = doc.createNode(entry);
    if (isSeq(rules)) {
      const i = rules.items.findIndex((item) => isMap(item) && item.get('id') === rule.id);
      if (i >= 0) rules.items[i] = node;
      else rules.items.push(node);
    } else {
      doc.setIn(['alerts', 'rules'], doc.createNode([entry]));
    }
    out = doc.toString();
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  await fs.writeFile(tmp, out, { mode: (await fs.stat(file)).mode });
  await fs.rename(tmp, file);
}
