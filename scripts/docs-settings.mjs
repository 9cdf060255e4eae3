// `npm run docs:settings`: writes README's configuration tables from the settings list (src/config.ts).
import fs from 'node:fs';
import path from 'node:path';
import { withSettingsTables } from '../dist/src/settings/readme.js';

const file = path.resolve(import.meta.dirname, '..', 'README.md');
const before = fs.readFileSync(file, 'utf8');
const after = withSettingsTables(before);
if (after !== before) fs.writeFileSync(file, after);
console.log(after === before ? 'README.md: settings tables already up to date' : 'README.md: settings tables written');
