// Option names are written three ways (`learning_rate`, `--learning-rate`, `learningRate`); these
// map any of them to one spelling, so every spelling names the same option.

/** camelCase / kebab-case / snake_case -> snake_case (`adamBeta1` -> `adam_beta1`). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** snake_case -> kebab-case, the preferred flag spelling. */
export function toKebabCase(name: string): string {
  return toSnakeCase(name).replace(/_/g, '-');
}
