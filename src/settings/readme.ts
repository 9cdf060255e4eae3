// README's tables of settings and of the executor's flags, written from the settings list:
// `npm run docs:settings` puts each between its markers, and test/readme.test.ts fails when README holds
// other ones.
import { settingGroups, settings, type Setting } from '../config.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\.$/, '');

const defaultOf = (s: Setting) => (s.defaultIsValue ? `\`${s.default}\`` : s.default);

function settingRow(s: Setting): string {
  const flag = s.flag ? ` (\`--${s.flag.name}\`)` : '';
  return `| \`${s.env}\` | ${cell(defaultOf(s))} | ${cell(s.help)}${flag} |`;
}

/** One table per topic, under its title. */
function settingsTables(): string {
  const table = (group: Record<string, Setting>) => ['| variable | default | meaning |', '| --- | --- | --- |', ...Object.values(group).map(settingRow)];
  return settingGroups.map(([title, group]) => [`**${title}**`, '', ...table(group)].join('\n')).join('\n\n');
}

/** The settings that have a flag: the flag, its setting and default, its help. */
function flagsTable(): string {
  const rows = Object.values(settings as Record<string, Setting>)
    .filter((s) => s.flag)
    .map((s) => `| \`--${s.flag?.name} ${s.flag?.arg}\` | \`${s.env}\` (${cell(defaultOf(s))}) | ${cell(s.help)} |`);
  return ['| option | setting (default) | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The parts of README written from the list: each between its two marker lines. */
export const sections = [
  { name: 'settings table', render: settingsTables },
  { name: 'flags table', render: flagsTable },
].map((s) => ({
  ...s,
  start: `<!-- ${s.name}: written by \`npm run docs:settings\` from src/config.ts -->`,
  end: `<!-- end of ${s.name} -->`,
}));

/** README with each section between its markers written afresh; throws when a marker is missing. */
export function withSettingsTables(readme: string): string {
  let out = readme;
  for (const { start, end, render } of sections) {
    const from = out.indexOf(start);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`README.md needs the lines ${start} and ${end}`);
    out = `${out.slice(0, from + start.length)}\n\n${render()}\n\n${out.slice(to)}`;
  }
  return out;
}
