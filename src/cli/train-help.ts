// `tokentune train --help` (also shown by distill): the option table grouped as in HF's docs.

import { OPTION_GROUP_TITLES, TRAINING_OPTIONS, type OptionGroup, type OptionType } from '../train/training-options.js';
import { toKebabCase } from '../util/option-names.js';
import { layoutOptionRows, wrapWords } from './help-format.js';
import { formatOptionValue } from './option-values.js';
import { UNSUPPORTED_OPTIONS } from './unsupported-options.js';

function typeLabel(t: OptionType): string {
  switch (t.kind) {
    case 'bool':
      return '';
    case 'int':
      return ' <INT>';
    case 'float':
      return ' <FLOAT>';
    case 'string':
      return ' <STR>';
    case 'enum':
      return ` <${t.values.join('|')}>`;
    case 'steps':
      return ' <N|RATIO>';
    case 'resume':
      return ' [PATH]';
    case 'classWeights':
      return ' <balanced|W,W,...>';
  }
}

/** `tokentune train --help`: options grouped as in HF's docs, each with its default. */
export function formatHelp(opts: { usage?: string; width?: number } = {}): string {
  const width = Math.max(60, opts.width ?? 100);
  const usage = opts.usage ?? 'tokentune train [CONFIG.yaml|CONFIG.json] [--config FILE] [options]';
  const col = 38;
  const lines: string[] = [
    `Usage: ${usage}`,
    '',
    ...wrapWords(
      'Flags accept kebab-case (--learning-rate), snake_case (--learning_rate) and camelCase; booleans take --flag, --flag=false or --no-flag. Flags override config files, which override defaults. Step counts below 1 are ratios of the total number of training steps.',
      width,
    ),
  ];
  for (const group of Object.keys(OPTION_GROUP_TITLES) as OptionGroup[]) {
    lines.push('', `${OPTION_GROUP_TITLES[group]}:`);
    const rows = TRAINING_OPTIONS.filter((o) => o.group === group).map((spec) => {
      const left = `  --${toKebabCase(spec.name)}${typeLabel(spec.type)}`;
      const d = spec.default;
      const dflt = d === null || d === false ? '' : ` (default: ${formatOptionValue(d)})`;
      const alias = spec.aliases.length ? ` [alias: ${spec.aliases.map((a) => `--${toKebabCase(a)}`).join(', ')}]` : '';
      return [left, `${spec.help}${dflt}${alias}`] as const;
    });
    lines.push(...layoutOptionRows(rows, col, width - col));
  }
  const errs = UNSUPPORTED_OPTIONS.filter((u) => u.action === 'error').map((u) => u.name);
  const warns = UNSUPPORTED_OPTIONS.filter((u) => u.action === 'warn').map((u) => u.name);
  lines.push('', ...wrapWords(`Hugging Face settings that are rejected: ${errs.join(', ')}.`, width));
  lines.push('', ...wrapWords(`Hugging Face settings that are ignored with a warning: ${warns.join(', ')}.`, width));
  return lines.join('\n') + '\n';
}
