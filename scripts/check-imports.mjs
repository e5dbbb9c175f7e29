// `npm run check:imports` (part of `npm test`): the module graph of the app (src/, handlers/),
// the emulator package and the scripts/tests around them, parsed by dpdm, holds
//   - no import circle anywhere, type-only imports included (Prisma's generated client aside);
//   - no import of the emulator by the app: it is a development dependency (tests, demo, bench),
//     and src/ and handlers/ must run from a production install without it;
//   - no import of the app by the emulator: a portal knows nothing of the apps on it.
import { parseCircular, parseDependencyTree, prettyCircular } from 'dpdm';

const EMULATOR = /^(packages\/b24-emulator\/|node_modules\/@b24-automation\/emulator\/)/;
const APP = /^(src|handlers)\//;

const tree = await parseDependencyTree(['src/**/*.ts', 'handlers/**/*.ts', 'packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts'], {
  context: process.cwd(),
  tsconfig: 'tsconfig.json',
  transform: false,
  // Prisma's generated client (gitignored, not ours) imports in circles of its own
  exclude: /\/node_modules\/|\/src\/generated\//,
});

const problems = [];
const circulars = parseCircular(tree);
if (circulars.length > 0) problems.push(`import circles:\n${prettyCircular(circulars, '  ')}`);
for (const [file, dependencies] of Object.entries(tree)) {
  for (const { request, id } of dependencies ?? []) {
    const target = id ?? request;
    if (APP.test(file) && (EMULATOR.test(target) || request.startsWith('@b24-automation/emulator'))) problems.push(`${file} imports the emulator (${request}): the app must run without it`);
    if (EMULATOR.test(file) && APP.test(target)) problems.push(`${file} imports app code (${request}): the emulator must not know the app`);
  }
}
const files = Object.keys(tree).filter((f) => !f.startsWith('node_modules/')).length;
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`imports checked: ${files} modules, no circle, the app does not import the emulator, the emulator does not import the app`);
