// `npm start`: brings the development build up to date, then launches the sandbox and the service.
//
// The build here only transpiles, with SWC (the transpiler the test suite already runs the same
// sources through), and only the files whose output is older than their source: a restart on an
// unchanged checkout builds nothing and a fresh checkout builds in about a second. Type-checking is
// `tsc`'s job in `npm test` and CI; `npm run build` (tsc, for start:prod and the image) is unchanged.
// @swc/cli would do the transpiling, but not the "only what changed" check or the removal of
// outputs whose source is gone, which are what make a restart cheap, so this short script does both.
import { transformFile } from '@swc/core';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Source folders and where their JavaScript goes: the layout `tsc -b` gives (rootDir ".", outDir dist). */
const TREES = [
  { from: 'src', to: 'dist/src' },
  { from: 'migrations', to: 'dist/migrations' },
  { from: 'sandbox', to: 'dist-sandbox/sandbox' },
];

/** The TypeScript options of tsconfig.json that change the emitted code, in SWC's terms. */
const SWC = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    // NestJS's dependency injection and TypeORM's columns read the design-time types of decorated members.
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: true,
  swcrc: false,
  configFile: false,
};

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function* outputs(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* outputs(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -1);

async function build() {
  const started = Date.now();
  let built = 0;
  let removed = 0;
  for (const tree of TREES) {
    const from = join(ROOT, tree.from);
    const to = join(ROOT, tree.to);
    const wanted = new Set();
    const stale = [];
    for (const source of sources(from)) {
      const out = join(to, relative(from, source)).replace(/\.ts$/, '.js');
      wanted.add(out);
      if (mtime(out) < statSync(source).mtimeMs) stale.push([source, out]);
    }
    await Promise.all(
      stale.map(async ([source, out]) => {
        const { code, map } = await transformFile(source, { ...SWC, filename: source, sourceFileName: relative(dirname(out), source) });
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
        if (map) writeFileSync(`${out}.map`, map);
      }),
    );
    built += stale.length;
    // An output whose source was deleted or renamed would still be found by anything that looks
    // for files (the data source's entity pattern): it goes.
    for (const out of outputs(to)) {
      if (wanted.has(out)) continue;
      rmSync(out);
      rmSync(`${out}.map`, { force: true });
      removed += 1;
    }
  }
  if (built || removed) console.log(`[start] transpiled ${built} file(s), removed ${removed} stale, in ${Date.now() - started} ms`);
}

await build();
await import(join(ROOT, 'dist-sandbox/sandbox/launch.js'));
