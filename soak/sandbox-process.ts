// The sandbox in a process of its own for the soak, so that the load generator's work never slows
// the providers' answers: `node -r ts-node/register/transpile-only soak/sandbox-process.ts <keyDir> <timeScale>`.
// Sends {url, credentials} to the parent over IPC once listening.
import { startSandbox, type SandboxCredentials } from '../sandbox/index';

export interface SandboxReady {
  url: string;
  credentials: SandboxCredentials;
}

async function main(): Promise<void> {
  const [keyDir, timeScale] = process.argv.slice(2);
  if (!process.send) throw new Error('start me with an IPC channel');
  const sandbox = await startSandbox({ keyDir, port: 0, timeScale: Number(timeScale) });
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent went away without stopping us.
  process.once('disconnect', stop);
  const ready: SandboxReady = { url: sandbox.url, credentials: sandbox.credentials };
  process.send(ready);
}

main().catch((e: Error) => {
  process.stderr.write(`sandbox failed to start: ${e.message}\n`);
  process.exit(1);
});
