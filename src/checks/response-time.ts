import { ms, round } from './format';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

/** A check's resolved schedule, as checkOptions() returns it. */
interface Schedule {
  readonly name: string;
  readonly required: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** The dependency check the scheduler runs, for a component graded on its response time. */
export function responseTimeCheck(
  o: Schedule,
  component: string,
  run: DependencyCheck['run'],
  close?: () => Promise<void>,
): DependencyCheck {
  return {
    name: o.name,
    component,
    measurement: 'responseTime',
    required: o.required,
    intervalMs: o.intervalMs,
    timeoutMs: o.timeoutMs,
    run,
    ...(close !== undefined ? { close } : {}),
  };
}

/** A graded outcome whose value is a round trip in ms; the issues, if any, are its message. */
export function responseTimeOutcome(
  base: Pick<CheckOutcome, 'measurement' | 'unit' | 'threshold'>,
  status: CheckStatus,
  roundTripMs: number,
  issues: readonly string[],
  details: Record<string, unknown>,
): CheckOutcome {
  return {
    ...base,
    status,
    value: round(roundTripMs),
    display: ms(roundTripMs),
    ...(issues.length > 0 ? { message: issues.join('; ') } : {}),
    details,
  };
}
