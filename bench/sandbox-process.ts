// The sandbox in a process of its own for the bench:
// `node -r ts-node/register/transpile-only bench/sandbox-process.ts <keyDir> <memberpay port>`.
// Sends {url, env} to the parent over IPC once listening: env is what memberpay needs to use it.
import { memberpayEnv } from '../sandbox/env';
import { startSandbox } from '../sandbox/index';

export interface SandboxReady {
  url: string;
  env: Record<string, string>;
}

async function main(): Promise<void> {
  const [keyDir, appPort] = process.argv.slice(2);
  if (!process.send) throw new Error('start me with an IPC channel');
  const sandbox = await startSandbox({ keyDir, port: 0 });
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent went away without stopping us.
  process.once('disconnect', stop);
  const ready: SandboxReady = {
    url: sandbox.url,
    env: { ...memberpayEnv(sandbox.credentials, appPort, { wechat: true, alipay: true }), PAYMENT_SANDBOX: '1' },
  };
  process.send(ready);
}

main().catch((e: Error) => {
  process.stderr.write(`sandbox failed to start: ${e.message}\n`);
  process.exit(1);
});
