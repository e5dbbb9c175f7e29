// The app's main page inside the Bitrix24 frame: every request carries the frame's auth, and
// the server checks it against the portal (see src/admin/frame-auth.ts).
const texts = {
  en: { title: 'Automation robots', robots: 'Robots and actions', repair: 'Repair registration', calls: 'Recent calls', registered: 'registered', missing: 'missing', none: 'No calls yet.' },
  ru: { title: 'Роботы автоматизации', robots: 'Роботы и действия', repair: 'Восстановить регистрацию', calls: 'Последние вызовы', registered: 'зарегистрирован', missing: 'отсутствует', none: 'Вызовов пока нет.' },
  de: { title: 'Automatisierungsroboter', robots: 'Roboter und Aktionen', repair: 'Registrierung reparieren', calls: 'Letzte Aufrufe', registered: 'registriert', missing: 'fehlt', none: 'Noch keine Aufrufe.' },
};

function frameAuth() {
  return new Promise((resolve) => window.BX24.init(() => resolve({ auth: window.BX24.getAuth(), lang: window.BX24.getLang?.() ?? 'en' })));
}

const cell = (text, className) => {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
};

async function main() {
  const { auth, lang } = await frameAuth();
  const t = texts[lang] ?? texts.en;
  document.querySelectorAll('[data-text]').forEach((el) => (el.textContent = t[el.dataset.text]));
  const api = (path, init = {}) =>
    fetch(path, { ...init, headers: { authorization: `Bearer ${auth.access_token}`, 'x-b24-member-id': auth.member_id } }).then((r) => r.json());

  const status = await api('/api/status');
  const name = (n) => (typeof n === 'string' ? n : n[lang] ?? n.en);
  document.getElementById('state').textContent = `${status.portal.domain} — ${status.portal.state}${status.portal.stateReason ? `: ${status.portal.stateReason}` : ''}`;
  const robots = document.getElementById('robots');
  for (const handler of status.handlers) {
    const row = robots.insertRow();
    row.append(cell(name(handler.name)), cell(handler.code, 'muted'));
    const ok = handler.registered && Object.values(handler.registered).every(Boolean);
    row.append(cell(ok ? t.registered : t.missing, ok ? 'ok' : 'bad'));
  }
  document.getElementById('repair').onclick = async () => {
    const report = await api('/api/registration/sync', { method: 'POST' });
    document.getElementById('repaired').textContent = report.error_description ?? `+${report.added.length} ~${report.updated.length} −${report.deleted.length}`;
  };
  const { items } = await api('/api/calls?limit=20');
  const calls = document.getElementById('calls');
  if (items.length === 0) calls.insertRow().append(cell(t.none, 'muted'));
  for (const call of items) {
    const row = calls.insertRow();
    row.append(cell(new Date(call.receivedAt).toLocaleString(lang)), cell(call.code), cell(call.status, call.status === 'answered' ? 'ok' : call.status === 'failed' ? 'bad' : ''), cell(call.error ?? ''));
  }
}

main().catch((error) => (document.getElementById('state').textContent = String(error)));
