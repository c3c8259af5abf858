// `npm start`: in development, start the sandbox for the providers it should emulate (see
// sandboxSelection), point memberpay at it through process.env, then load the built app. Production
// (`npm run start:prod`, or NODE_ENV=production here) never starts the sandbox.
import { config } from 'dotenv';
import { resolve } from 'node:path';
import { banner, memberpayEnv, sandboxSelection } from './env';
import { startSandbox } from './index';

async function startSandboxIfNeeded(): Promise<void> {
  if (process.env.NODE_ENV === 'production') return;
  const which = sandboxSelection(process.env);
  if (typeof which === 'string') throw new Error(which);
  if (!which.wechat && !which.alipay) return;
  const port = Number(process.env.SANDBOX_PORT ?? 8002);
  const keyDir = resolve(process.env.DATA_DIR ?? './data', 'sandbox');
  // unref: the app alone decides when the process ends (it handles SIGINT/SIGTERM itself).
  const sandbox = await startSandbox({ port, keyDir, unref: true, log: (line) => console.log(`[sandbox] ${line}`) });
  process.once('exit', () => void sandbox.close());
  const notice = process.env.WECHAT_PAY_PAPAY_NOTICE === 'merchant' ? 'merchant' : 'wechat';
  const env = memberpayEnv(sandbox.credentials, process.env.PORT ?? '8001', which, notice);
  // MEMBERPAY_SANDBOX_URL: the service records it for the tools (src/config/service-setup.ts).
  Object.assign(process.env, env, { PAYMENT_SANDBOX: '1', MEMBERPAY_SANDBOX_URL: sandbox.url });
  const emulated = [which.wechat && 'WeChat Pay', which.alipay && 'Alipay'].filter(Boolean).join(' and ');
  console.log(
    banner(sandbox.url, ['', `Emulating: ${emulated} (configured providers are left alone; PAYMENT_SANDBOX_PROVIDERS chooses).`]),
  );
}

async function launch(): Promise<void> {
  config({ quiet: true }); // .env from the cwd; real environment variables win
  await startSandboxIfNeeded();
  // The service records its setup for the tools and says where to go when it is `npm start`'s.
  process.env.MEMBERPAY_STARTED_BY = 'npm start';
  // The built service, loaded only now that its environment is set (an import would run it first).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a run-time path outside this program
  require(resolve(__dirname, '../../dist/src/main.js'));
}

launch().catch((err: Error) => {
  console.error(`Launch failed: ${err.message}`);
  process.exit(1);
});
