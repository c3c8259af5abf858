import type { X509Certificate } from 'node:crypto';
import { KeyMaterialError, loadCertificate } from './key-material';

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  /**
   * `partial`: what could be built despite the problems (each provider's section when its own
   * settings hold), for a report that shows every area as it is (npm run config:check).
   */
  constructor(
    readonly problems: ConfigProblem[],
    readonly partial?: unknown,
  ) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
  }
}

/** Key material read for `variable`: a KeyMaterialError (whose message never holds the key) becomes that variable's problem. */
export function keyProblem<T>(variable: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KeyMaterialError) throw new ConfigError([{ variable, problem: e.message }]);
    throw e;
  }
}

/** The X.509 certificate at `path`, named by `variable`; see keyProblem. */
export function certificateProblem(variable: string, path: string): X509Certificate {
  return keyProblem(variable, () => loadCertificate(path));
}
