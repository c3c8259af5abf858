/**
 * `npm run openapi [-- --out docs/openapi.json]`: writes the OpenAPI document (the one served at
 * /api/docs-json) to a file, for client generators. The application is built in Nest's preview mode:
 * its routes and DTOs are read, nothing is started (no database, no provider), so it runs anywhere.
 */
import { NestFactory } from '@nestjs/core';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppModule } from '../src/app.module';
import { openApiDocument } from '../src/common/openapi';

const USAGE = `usage: npm run openapi [-- --out FILE]

Writes the OpenAPI document of the API to FILE (default openapi.json), JSON.

  --out FILE    where to write it
  -h, --help    this text
`;

async function main(): Promise<void> {
  let values: { out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const out = resolve(values.out ?? 'openapi.json');
  // A configuration of its own: the document does not depend on this machine's settings.
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-openapi-'));
  try {
    const module = await AppModule.forRoot({ env: { NODE_ENV: 'test', DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(32) } });
    const app = await NestFactory.create(module, { preview: true, logger: false, abortOnError: false });
    const document = openApiDocument(app);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
    process.stdout.write(
      `${out}: OpenAPI ${document.openapi}, ${Object.keys(document.paths).length} paths, version ${document.info.version}\n`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`openapi failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
