// `npm run sandbox`: the sandbox on its own, for a memberpay started elsewhere. Keys persist
// under DATA_DIR/sandbox so that instance keeps working across sandbox restarts.
import { resolve } from 'node:path';
import { banner, memberpayEnv } from './env';
import { startSandbox } from './index';

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    console.error('The payment sandbox refuses to run with NODE_ENV=production.');
    process.exit(1);
  }
  const port = Number(process.env.SANDBOX_PORT ?? 8002);
  const keyDir = resolve(process.env.DATA_DIR ?? './data', 'sandbox');
  const sandbox = await startSandbox({ port, keyDir, log: (line) => console.log(line) });
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const env = memberpayEnv(sandbox.credentials, process.env.PORT ?? '8001', { wechat: true, alipay: true });
  console.log(
    banner(sandbox.url, [
      '',
      'Environment for a memberpay instance (keys are files under the sandbox key directory):',
      ...Object.entries(env).map(([k, v]) => `  ${k}=${v}`),
      '  PAYMENT_SANDBOX=1',
    ]),
  );
}

main().catch((err: Error) => {
  console.error(`Sandbox failed to start: ${err.message}`);
  process.exit(1);
});
