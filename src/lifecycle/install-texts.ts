/** The install page's words in the languages a portal may use (en, ru, de; English otherwise). */
const texts = {
  en: {
    lang: 'en',
    installed: 'Installed',
    installedHint: 'The robots are registered. You can place them on CRM stages and in the workflow designer.',
    failed: 'Installation failed',
    retry: 'The portal could not be reached to finish the installation. Open the application again to retry.',
    refused: 'The installation could not be confirmed with Bitrix24. Only a portal administrator can install the application: open it again from your portal.',
    openFromPortal: 'Open this application from Bitrix24',
    openHint: 'This page is shown by Bitrix24 when the application is installed.',
  },
  ru: {
    lang: 'ru',
    installed: 'Установлено',
    installedHint: 'Роботы зарегистрированы. Их можно добавить на стадии CRM и в дизайнер бизнес-процессов.',
    failed: 'Установка не удалась',
    retry: 'Не удалось связаться с порталом, чтобы завершить установку. Откройте приложение ещё раз.',
    refused: 'Не удалось подтвердить установку в Битрикс24. Установить приложение может только администратор портала: откройте его ещё раз из портала.',
    openFromPortal: 'Откройте это приложение из Битрикс24',
    openHint: 'Эту страницу показывает Битрикс24 при установке приложения.',
  },
  de: {
    lang: 'de',
    installed: 'Installiert',
    installedHint: 'Die Roboter sind registriert. Sie können sie in CRM-Phasen und im Workflow-Designer verwenden.',
    failed: 'Installation fehlgeschlagen',
    retry: 'Das Portal war nicht erreichbar, um die Installation abzuschließen. Öffnen Sie die Anwendung erneut.',
    refused: 'Die Installation konnte bei Bitrix24 nicht bestätigt werden. Nur ein Portaladministrator kann die Anwendung installieren: Öffnen Sie sie erneut aus Ihrem Portal.',
    openFromPortal: 'Öffnen Sie diese Anwendung aus Bitrix24',
    openHint: 'Diese Seite zeigt Bitrix24 bei der Installation der Anwendung.',
  },
};

export function pageText(lang: string) {
  return texts[lang as keyof typeof texts] ?? texts.en;
}
