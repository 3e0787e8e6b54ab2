import type { CheckStatus } from '../checks/types';

/**
 * Keeps one evaluation from flapping a status: a check's reported status changes only after the
 * new status has been seen in `evaluations` consecutive evaluations (default 2). The first
 * evaluation of a check is reported as it is. With evaluations = 1 there is no hysteresis.
 */
export class Hysteresis {
  private readonly state = new Map<string, { reported: CheckStatus; candidate: CheckStatus; streak: number }>();

  constructor(private readonly evaluations = 2) {}

  apply(name: string, observed: CheckStatus): CheckStatus {
    const s = this.state.get(name);
    if (s === undefined) {
      this.state.set(name, { reported: observed, candidate: observed, streak: 0 });
      return observed;
    }
    if (observed === s.reported) {
      s.candidate = observed;
      s.streak = 0;
      return s.reported;
    }
    if (observed === s.candidate) s.streak++;
    else {
      s.candidate = observed;
      s.streak = 1;
    }
    if (s.streak >= this.evaluations) {
      s.reported = observed;
      s.streak = 0;
    }
    return s.reported;
  }

  /** Whether `name`'s reported status lags what was observed (for the check's message). */
  pending(name: string): CheckStatus | undefined {
    const s = this.state.get(name);
    return s !== undefined && s.streak > 0 ? s.candidate : undefined;
  }
}
