// `wsgate version` (and `wsgate --version`): the package's version.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../config.js';
import type { Verb } from './verb.js';

export const packageVersion = (): string => (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

export const versionVerbs: Record<string, Verb> = {
  version: {
    usage: 'wsgate version',
    help: 'Prints the version of wsgate (also `wsgate --version`).',
    async run() {
      process.stdout.write(`wsgate ${packageVersion()}\n`);
      return 0;
    },
  },
};
