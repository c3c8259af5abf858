import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, getMetadataArgsStorage } from 'typeorm';
import { useApp } from '../support/lifecycle';

const SRC = join(__dirname, '..', '..', 'src');

/** The @Entity classes of src/**\/*.entity.ts: the set src/data-source.ts gives the drift check. */
function entityFiles(): string[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.entity.ts'));
  const tables = new Set(getMetadataArgsStorage().tables.map((t) => t.target));
  return (
    files
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the files are found at run time, as the CLI finds them
      .flatMap((f) => Object.values(require(join(SRC, f)) as Record<string, unknown>))
      .filter((exported) => tables.has(exported as never))
      .map((entity) => (entity as { name: string }).name)
  );
}

/**
 * The service takes its entities from the feature modules (TypeOrmModule.forFeature, autoLoadEntities)
 * and the migration CLI from the files: an entity no module registers would be in the drift check
 * and missing in the service, whose repositories for it fail only when first used.
 */
describe('entity registration', () => {
  const { t } = useApp();

  it('the service registers every entity the migration CLI compares with the migrations', () => {
    const registered = t.app.get(DataSource).entityMetadatas.map((m) => (m.target as { name: string }).name);
    expect(registered.sort()).toEqual(entityFiles().sort());
    expect(registered.length).toBeGreaterThan(0);
  });
});
