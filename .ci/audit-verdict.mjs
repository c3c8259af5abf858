// Reads `npm audit --omit=dev --json` on stdin and decides the CI step: exit 1 when a production
// dependency has a high or critical advisory; exit 0, saying so loudly, when the advisory service
// could not be asked (no network, or a registry mirror without the audit endpoint), since nothing
// was learnt then and the rest of CI should still run.
import process from 'node:process';

let text = '';
process.stdin.on('data', (c) => {
  text += c;
});
process.stdin.on('end', () => {
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    report = null;
  }
  const counts = report && report.metadata && report.metadata.vulnerabilities;
  if (!counts) {
    const why = (report && (report.message || (report.error && report.error.summary))) || 'no answer';
    process.stderr.write(`WARNING: npm audit could not reach the advisory service (${why}): production dependencies NOT CHECKED\n`);
    process.exit(0);
  }
  const summary = ['critical', 'high', 'moderate', 'low', 'info'].map((s) => `${s}=${counts[s] || 0}`).join(' ');
  process.stdout.write(`npm audit (production dependencies): ${summary}\n`);
  for (const [name, v] of Object.entries(report.vulnerabilities || {})) process.stdout.write(`  ${v.severity} ${name} ${v.range || ''}\n`);
  process.exit((counts.critical || 0) + (counts.high || 0) > 0 ? 1 : 0);
});
