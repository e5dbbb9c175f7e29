/**
 * The pages' theme follows the portal: the portal page gives its frame a color-scheme, which the
 * page sees as prefers-color-scheme, and the UI kit's dark styles hang on `html.dark`. Nothing is
 * stored: a frame's storage may be refused (third-party storage blocked), and the UI kit's own
 * color-mode plugin reads localStorage whatever storage key it is given, so it is off
 * (scripts/build-pages.mjs) and this takes its place.
 */
export function followPortalTheme(): void {
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = () => document.documentElement.classList.toggle('dark', dark.matches);
  dark.addEventListener('change', apply);
  apply();
}
