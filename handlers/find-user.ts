/**
 * Find a user — chosen, the document's responsible (the default), or by e-mail — and return
 * their name, e-mail, position, department and manager, so a later step can route to the
 * manager (user.get, department.get). The manager is the head of the user's department, or of
 * the nearest department above it when the user heads their own. Users and the department tree
 * come from the app's short shared cache (_shared/cached-reads.ts): a warm cache answers a call
 * with no request at all.
 */
import { defineHandler, HandlerError } from '../src/robots/definition.ts';
import { departmentsById, usersBy, type Department } from './_shared/cached-reads.ts';
import { ERROR_RETURN, refusalText, unlessRefused, userValue } from './_shared/robot-kit.ts';

export default defineHandler({
  code: 'find_user',
  kind: 'both',
  config: {
    NAME: { en: 'Find a user', ru: 'Найти пользователя', de: 'Benutzer finden' },
    DESCRIPTION: {
      en: 'Looks up a user (by default the document’s responsible person, or by e-mail) and returns their name, e-mail, position, department and manager.',
      ru: 'Находит пользователя (по умолчанию ответственного за документ или по e-mail) и возвращает имя, e-mail, должность, подразделение и руководителя.',
      de: 'Sucht einen Benutzer (standardmäßig den Verantwortlichen des Dokuments oder per E-Mail) und gibt Name, E-Mail, Position, Abteilung und Vorgesetzten zurück.',
    },
    PROPERTIES: {
      user: {
        Name: { en: 'User', ru: 'Пользователь', de: 'Benutzer' },
        Type: 'user',
        Default: '{=Document:ASSIGNED_BY_ID}',
      },
      email: {
        Name: { en: 'Or find by e-mail', ru: 'Или найти по e-mail', de: 'Oder per E-Mail finden' },
        Description: { en: 'When given, used instead of User', ru: 'Если задан, используется вместо поля «Пользователь»', de: 'Wenn angegeben, statt «Benutzer» verwendet' },
        Type: 'string',
      },
    },
    RETURN_PROPERTIES: {
      user: { Name: { en: 'User', ru: 'Пользователь', de: 'Benutzer' }, Type: 'user' },
      name: { Name: { en: 'Full name', ru: 'Имя и фамилия', de: 'Vollständiger Name' }, Type: 'string' },
      email: { Name: { en: 'E-mail', ru: 'E-mail', de: 'E-Mail' }, Type: 'string' },
      position: { Name: { en: 'Position', ru: 'Должность', de: 'Position' }, Type: 'string' },
      department_id: { Name: { en: 'Department ID', ru: 'ID подразделения', de: 'Abteilungs-ID' }, Type: 'int' },
      department_name: { Name: { en: 'Department', ru: 'Подразделение', de: 'Abteilung' }, Type: 'string' },
      manager: { Name: { en: 'Manager (department head)', ru: 'Руководитель', de: 'Vorgesetzter (Abteilungsleiter)' }, Type: 'user' },
      ...ERROR_RETURN,
    },
  },
  async run({ properties, portal, log }) {
    const email = properties.email?.trim();
    if (!email && !properties.user) throw new HandlerError('Choose a user or give an e-mail to look for.');
    const wanted = email ? `the e-mail ${email}` : `ID ${properties.user}`;

    const found = await unlessRefused(
      usersBy(portal, email ? { email } : { id: properties.user! }),
      (refusal) => `The portal would not look up the user with ${wanted}: ${refusalText(refusal)}`,
    );
    const user = found?.[0];
    if (!user) throw new HandlerError(`There is no user with ${wanted} on this portal.`);
    if (found.length > 1) await log(`${found.length} users have ${wanted}; using user #${user.ID}`);

    const userId = Number(user.ID);
    const departmentId = Number([user.UF_DEPARTMENT].flat()[0]) || 0;
    const departments = departmentId > 0 ? await departmentsById(portal) : new Map<number, Department>();
    const { department, managerId } = departmentAndManager(departments, userId, departmentId);
    const name = [user.NAME, user.LAST_NAME].filter(Boolean).join(' ');
    await log(`Found user #${userId} (${name || 'no name'}); manager: ${managerId ? `user #${managerId}` : 'none'}`);
    return {
      user: userValue(userId),
      name,
      email: user.EMAIL ?? '',
      position: user.WORK_POSITION ?? '',
      department_id: departmentId,
      department_name: department?.NAME ?? '',
      manager: userValue(managerId),
    };
  },
});

/** The user's department, and the head of it or of the nearest one above that someone else heads. */
function departmentAndManager(departments: Map<number, Department>, userId: number, departmentId: number) {
  let department: Department | undefined;
  const seen = new Set<number>();
  for (let id = departmentId; id > 0 && !seen.has(id); ) {
    seen.add(id);
    const current = departments.get(id);
    if (!current) break;
    department ??= current;
    const head = Number(current.UF_HEAD) || 0;
    if (head > 0 && head !== userId) return { department, managerId: head };
    id = Number(current.PARENT) || 0;
  }
  return { department, managerId: null };
}
