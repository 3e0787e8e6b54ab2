/**
 * Seed 004's KPI thresholds ("Monitoring & Alerting Guide", Key Performance Indicators), read from
 * the seed itself, and where each KPI shows up in the shipped artifacts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './repo';

export type Direction = 'above' | 'below';

export interface SeedKpi {
  /** Bold name in the seed, e.g. "First Token Latency". */
  readonly name: string;
  readonly direction: Direction;
  /** In base units: seconds for latencies, a 0..1 ratio for percentages, a count otherwise. */
  readonly warning: number;
  readonly critical: number;
}

export const SEED_DIR = path.resolve(REPO, '..', 'shared', 'seeds');

export function seed004Path(): string {
  if (!fs.existsSync(SEED_DIR)) throw new Error(`seed directory ${SEED_DIR} is missing: the KPI thresholds are checked against seed 004`);
  const file = fs.readdirSync(SEED_DIR).find((f) => f.startsWith('004_') && f.endsWith('.txt'));
  if (!file) throw new Error(`no 004_*.txt in ${SEED_DIR}`);
  return path.join(SEED_DIR, file);
}

function toBase(value: number, unit: string): number {
  if (unit === 'ms') return value / 1000;
  if (unit === '%') return value / 100;
  if (unit === 's') return value;
  return value;
}

/** Parses `- **Name**: …` entries with `Warning: > 1000ms` / `Critical: < 95%` lines below them. */
export function parseSeedKpis(text: string): SeedKpi[] {
  const start = text.indexOf('### Key Performance Indicators');
  const end = text.indexOf('\n---', start);
  if (start === -1 || end === -1) throw new Error('seed 004 has no "Key Performance Indicators" section');
  const section = text.slice(start, end);
  const out: SeedKpi[] = [];
  const entry = /^- \*\*(.+?)\*\*:.*\n((?:[ \t]+- .*\n?)+)/gm;
  for (const m of section.matchAll(entry)) {
    const body = m[2]!;
    const line = (label: string) => {
      const l = new RegExp(`${label}:\\s*([<>])\\s*([0-9.]+)\\s*(ms|%|s)?`).exec(body);
      if (!l) throw new Error(`seed KPI ${m[1]} has no ${label} line`);
      return { op: l[1]!, value: toBase(Number(l[2]), l[3] ?? '') };
    };
    const warning = line('Warning');
    const critical = line('Critical');
    if (warning.op !== critical.op) throw new Error(`seed KPI ${m[1]}: warning and critical point in different directions`);
    out.push({ name: m[1]!, direction: warning.op === '>' ? 'above' : 'below', warning: warning.value, critical: critical.value });
  }
  return out;
}

export function seedKpis(): SeedKpi[] {
  return parseSeedKpis(fs.readFileSync(seed004Path(), 'utf8'));
}

/** Where each seed KPI is implemented. */
export interface KpiBinding {
  readonly seedName: string;
  readonly alert: string;
  /** The overview stat panel showing the KPI with its thresholds. */
  readonly statPanel: string;
  /** Time-series panels drawing the KPI's thresholds (with the override name for a multi-KPI panel). */
  readonly timeseriesPanels: readonly { title: string; override?: string }[];
}

export const KPI_BINDINGS: readonly KpiBinding[] = [
  { seedName: 'First Token Latency', alert: 'ChatbotTimeToFirstTokenHigh', statPanel: 'Time to first token p95', timeseriesPanels: [{ title: 'Time to first token p50 / p95 / p99' }] },
  { seedName: 'First Audio Latency', alert: 'ChatbotTimeToFirstAudioHigh', statPanel: 'First audio p95', timeseriesPanels: [{ title: 'First audio p95 by route' }] },
  { seedName: 'Complete Response Latency', alert: 'ChatbotResponseDurationHigh', statPanel: 'Complete response p95', timeseriesPanels: [{ title: 'Complete response p95 by route' }] },
  { seedName: 'Success Rate', alert: 'ChatbotStreamSuccessRateLow', statPanel: 'Stream success rate', timeseriesPanels: [{ title: 'Stream success rate by route' }] },
  { seedName: 'Error Rate', alert: 'ChatbotErrorRateHigh', statPanel: 'Error rate (5xx)', timeseriesPanels: [{ title: 'Error rate (5xx) by route' }] },
  { seedName: 'KB Cache Hit Rate', alert: 'ChatbotKbCacheHitRateLow', statPanel: 'KB cache hit rate', timeseriesPanels: [{ title: 'Cache hit rate', override: 'kb' }] },
  { seedName: 'TTS Cache Hit Rate', alert: 'ChatbotTtsCacheHitRateLow', statPanel: 'TTS cache hit rate', timeseriesPanels: [{ title: 'Cache hit rate', override: 'tts' }] },
  { seedName: 'Active Streams', alert: 'ChatbotActiveStreamsHigh', statPanel: 'Active streams per process', timeseriesPanels: [{ title: 'Active streams by instance' }] },
  { seedName: 'Memory Usage', alert: 'ChatbotMemoryUtilizationHigh', statPanel: 'Memory utilization', timeseriesPanels: [{ title: 'Memory utilization by instance' }] },
  { seedName: 'CPU Usage', alert: 'ChatbotCpuUtilizationHigh', statPanel: 'CPU utilization (5m avg)', timeseriesPanels: [{ title: 'CPU utilization by instance' }] },
];

/** Grafana threshold steps for a KPI: green/orange/red for "above", red/orange/green for "below". */
export function expectedSteps(k: SeedKpi): { color: string; value: number | null }[] {
  return k.direction === 'above'
    ? [
        { color: 'green', value: null },
        { color: 'orange', value: k.warning },
        { color: 'red', value: k.critical },
      ]
    : [
        { color: 'red', value: null },
        { color: 'orange', value: k.critical },
        { color: 'green', value: k.warning },
      ];
}
