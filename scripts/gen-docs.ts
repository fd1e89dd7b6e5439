// Regenerates the documentation pages that are derived from code (`npm run docs`).
import { writeFileSync } from 'node:fs';
import { renderCliDocs } from '../packages/cli/src/cli-docs';

writeFileSync(new URL('../docs/cli.md', import.meta.url), renderCliDocs());
console.log('wrote docs/cli.md');
