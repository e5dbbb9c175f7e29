/**
 * The start_workflow robot's `parameters` property: one `Name=value` line per value (a name
 * repeated for several values; users as user_12), as the robot reads it — to and from the form
 * the settings page generates from the chosen template's own parameter list.
 */
export interface TemplateParameter {
  id: string;
  name: string;
  description: string;
  /** bizproc field type: string, text, int, double, bool, select, date, datetime, user, … */
  type: string;
  required: boolean;
  multiple: boolean;
  options: Record<string, unknown> | unknown[] | null;
  default: unknown;
}

export type ParameterValues = Record<string, string[]>;

export function parseLines(text: unknown): ParameterValues {
  const values: ParameterValues = {};
  for (const line of String(text ?? '').split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const name = line.slice(0, at).trim();
    (values[name] ??= []).push(line.slice(at + 1));
  }
  return values;
}

export function toLines(parameters: TemplateParameter[], values: ParameterValues): string {
  return parameters
    .flatMap((p) => (values[p.id] ?? []).filter((v) => v !== '').map((v) => `${p.id}=${v.replace(/\r?\n/g, ' ')}`))
    .join('\n');
}

export function missingRequired(parameters: TemplateParameter[], values: ParameterValues): TemplateParameter[] {
  return parameters.filter((p) => p.required && !(values[p.id] ?? []).some((v) => v !== ''));
}

/** The choices of a select parameter as {label, value}. */
export function optionsOf(parameter: TemplateParameter): Array<{ label: string; value: string }> {
  const options = parameter.options ?? {};
  return Array.isArray(options) ? options.map((o) => ({ label: String(o), value: String(o) })) : Object.entries(options).map(([value, label]) => ({ label: String(label), value }));
}

/** A user value as the portal writes it (user_12) and back. */
export const userValue = (id: number) => `user_${id}`;
export const userIdOf = (value: string) => Number(/^user_(\d+)$/.exec(value)?.[1] ?? value);
