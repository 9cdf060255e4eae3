// `wsgate config`: every setting of the list, by topic, with the value in force (secrets only as "(set)",
// DATABASE_URL without its password) and its help line.
import { settingGroups, type Config, type Setting } from '../config.js';
import type { Verb } from './verb.js';

/** The lines `wsgate config` prints for a configuration. */
export function configLines(config: Config): string[] {
  const lines: string[] = [];
  for (const [title, group] of settingGroups) {
    lines.push(`# ${title}`);
    for (const [name, s] of Object.entries(group) as [keyof Config, Setting][]) {
      const help = s.flag ? `${s.help.replace(/\.$/, '')} (--${s.flag.name}).` : s.help;
      lines.push(`${s.env}=${s.show(config[name])}`, `    ${help}`);
    }
  }
  return lines;
}

export const configVerbs: Record<string, Verb> = {
  config: {
    usage: 'wsgate config',
    help: 'Prints every setting, by topic: its environment variable, the value in force, and what it does (with\nthe flag that overrides it for one run). Secrets are not shown, nor the password in DATABASE_URL.',
    async run(_args, config) {
      process.stdout.write(`${configLines(config).join('\n')}\n`);
      return 0;
    },
  },
};
