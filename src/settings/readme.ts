// README's configuration table, written from the settings list: `npm run docs:settings` puts it between
// the markers, and test/readme.test.ts fails when README holds another one.
import { settingGroups, type Setting } from '../config.js';

export const START = '<!-- settings table: written by `npm run docs:settings` from src/config.ts -->';
export const END = '<!-- end of settings table -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\.$/, '');

function row(s: Setting): string {
  const value = s.defaultIsValue ? `\`${s.default}\`` : s.default;
  const flag = s.flag ? ` (\`--${s.flag.name}\`)` : '';
  return `| \`${s.env}\` | ${cell(value)} | ${cell(s.help)}${flag} |`;
}

/** One table per topic, under its title. */
export function settingsTables(): string {
  return settingGroups
    .map(([title, group]) =>
      [`**${title}**`, '', '| variable | default | meaning |', '| --- | --- | --- |', ...Object.values(group).map(row)].join(
        '\n',
      ),
    )
    .join('\n\n');
}

/** README with the tables between the markers in place of what was there; throws when a marker is missing. */
export function withSettingsTables(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md needs the lines ${START} and ${END}`);
  return `${readme.slice(0, start + START.length)}\n\n${settingsTables()}\n\n${readme.slice(end)}`;
}
