/**
 * A robot's settings page (USE_PLACEMENT): Bitrix24 opens it in the robot's settings dialog
 * with PLACEMENT_OPTIONS (the robot's properties and their current values); the admin edits the
 * values here and they are saved into the template with BX24.placement.call('setPropertyValue').
 */
import { byId, el, replace } from './dom.ts';
import { openFrame } from './frame.ts';
import { localized, translator } from './i18n.ts';

interface Property {
  NAME?: unknown;
  DESCRIPTION?: unknown;
  TYPE?: string;
  REQUIRED?: string;
  MULTIPLE?: string;
  OPTIONS?: Record<string, unknown> | unknown[];
  DEFAULT?: unknown;
}

async function main() {
  const frame = await openFrame();
  const t = translator(frame.lang);
  document.documentElement.lang = frame.lang;
  const options = (window.BX24!.placement.info().options ?? {}) as { code?: string; properties?: Record<string, Property>; current_values?: Record<string, unknown> };
  const properties = options.properties ?? {};
  const current = options.current_values ?? {};
  byId('title').textContent = `${t('settingsTitle')}: ${options.code ?? ''}`;
  const inputs = new Map<string, () => unknown>();
  const fields = Object.entries(properties).map(([name, property]) => {
    const [control, read] = controlFor(name, property, current[name] ?? property.DEFAULT, t);
    inputs.set(name, read);
    const description = localized(property.DESCRIPTION, frame.lang);
    return el(
      'p',
      { class: 'field' },
      el('label', { for: `prop-${name}` }, localized(property.NAME, frame.lang) || name, property.REQUIRED === 'Y' ? el('span', { class: 'muted' }, ` (${t('required')})`) : null),
      el('br'),
      control,
      description ? el('small', { class: 'muted' }, ` ${description}`) : null,
    );
  });
  const note = el('span', { class: 'note', id: 'settings-note' });
  const save = el('button', { type: 'button', id: 'settings-save' }, t('save'));
  save.addEventListener('click', () => {
    const values = Object.fromEntries([...inputs].map(([name, read]) => [name, read()]));
    const missing = Object.entries(properties).filter(([name, p]) => p.REQUIRED === 'Y' && (values[name] === '' || values[name] === undefined));
    if (missing.length) {
      note.textContent = `${missing.map(([name, p]) => localized(p.NAME, frame.lang) || name).join(', ')}: ${t('required')}`;
      note.className = 'note bad';
      return;
    }
    save.disabled = true;
    window.BX24!.placement.call('setPropertyValue', values, (result) => {
      save.disabled = false;
      const error = (result as { error_description?: string } | null)?.error_description;
      note.textContent = error ?? t('saved');
      note.className = error ? 'note bad' : 'note ok';
    });
  });
  replace(byId('view'), ...fields, el('p', {}, save, ' ', note));
  document.body.dataset.ready = '1';
}

function controlFor(name: string, property: Property, value: unknown, t: ReturnType<typeof translator>): [HTMLElement, () => unknown] {
  const id = `prop-${name}`;
  const text = Array.isArray(value) ? value.join('\n') : value === undefined || value === null ? '' : String(value);
  switch (property.TYPE) {
    case 'bool': {
      const select = el('select', { id }, el('option', { value: 'Y' }, t('yes')), el('option', { value: 'N' }, t('no')));
      select.value = text === 'Y' || text === '1' || text === 'true' ? 'Y' : 'N';
      return [select, () => select.value];
    }
    case 'select': {
      const entries = Array.isArray(property.OPTIONS) ? property.OPTIONS.map((o) => [String(o), String(o)]) : Object.entries(property.OPTIONS ?? {}).map(([k, v]) => [k, String(v)]);
      const select = el('select', { id }, ...entries.map(([k, v]) => el('option', { value: k! }, v!)));
      select.value = text;
      return [select, () => select.value];
    }
    case 'text': {
      const area = el('textarea', { id, rows: '4', cols: '50' });
      area.value = text;
      return [area, () => area.value];
    }
    default: {
      const input = el('input', { id, type: property.TYPE === 'int' || property.TYPE === 'double' ? 'number' : 'text', size: '40' });
      input.value = text;
      return [input, () => (property.MULTIPLE === 'Y' ? input.value.split(/\s*,\s*/).filter(Boolean) : input.value)];
    }
  }
}

main().catch((error: Error) => {
  replace(byId('view'), el('p', { class: 'bad', id: 'fatal' }, error.message));
  document.body.dataset.ready = 'error';
});
