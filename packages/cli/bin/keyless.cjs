#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundle = join(__dirname, '..', 'dist', 'keyless.mjs');
if (!existsSync(bundle)) {
  process.stderr.write(
    'keyless: the CLI is not built yet. Run `npm run build` in the repository root, then try again.\n',
  );
  process.exit(1);
}
import(require('node:url').pathToFileURL(bundle).href);
