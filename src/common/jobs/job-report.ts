/** Rows one run of a job claims at most. */
export const BATCH_SIZE = 20;

/** What one run of a job did: how many rows it claimed, how many failed, and a count per outcome. */
export type JobReport = { claimed: number; failed: number } & Record<string, number>;

/** `claimed=3 paid=1 closed=2 failed=0`, the one line a run logs. */
export function formatReport(report: JobReport): string {
  return Object.entries(report)
    .map(([name, count]) => `${name}=${count}`)
    .join(' ');
}

/** A job the cron runs: a plain method of the current time, so tests drive it with their own clock. */
export interface ScheduledJob {
  run(now: Date): Promise<JobReport>;
}
