/**
 * The HTML of the portal's application page, as the core's app.layout template
 * (modules/rest/install/components/bitrix/app.layout/templates/.default/template.php) renders it:
 * a form `appform_<sid>` POSTed into the iframe `appframe_<sid>` named `DOMAIN|PROTOCOL|APP_SID`
 * (the name the SDK's initializeB24Frame reads), inside the layout `appframe_layout_<sid>` that
 * resizeWindow sizes; the form's action carries DOMAIN, PROTOCOL, LANG and APP_SID in its query.
 * Its script is app-layout.js, inlined, with its data as JSON beside it.
 */
import { readFileSync } from 'node:fs';

const APP_LAYOUT_SCRIPT = readFileSync(new URL('./app-layout.js', import.meta.url), 'utf8');

export interface PortalPage {
  lang: string;
  theme: 'light' | 'dark';
  /** shown in the header: the portal's domain and the signed-in user */
  header: string;
  appSid: string;
  /** the application's URL the form is POSTed to (the query is added here) */
  target: string;
  query: { DOMAIN: string; PROTOCOL: '0' | '1'; LANG: string; APP_SID: string };
  fields: Record<string, string>;
  /** the core's frame name: CURRENT_HOST|CURRENT_HOST_SECURE|APP_SID */
  frameName: string;
  /** what getInitData answers */
  initData: Record<string, unknown>;
  placement: string;
  placementCommands: string[];
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside a <script>: no "</script>" or "<!--" can close or confuse it.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function portalPage(page: PortalPage): string {
  const action = `${page.target}${page.target.includes('?') ? '&' : '?'}${new URLSearchParams(page.query)}`;
  const inputs = Object.entries(page.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const params = {
    appSid: page.appSid,
    appOrigin: new URL(page.target).origin,
    formName: `appform_${page.appSid}`,
    frameId: `appframe_${page.appSid}`,
    layoutId: `appframe_layout_${page.appSid}`,
    initData: page.initData,
    placement: page.placement,
    placementCommands: page.placementCommands,
    placementEvents: [],
    // template.php: a placement's frame may not set the portal's title, scroll it or reload it
    denied: page.placement === 'DEFAULT' ? [] : ['setTitle', 'setScroll', 'reloadWindow'],
  };
  const dark = page.theme === 'dark';
  // The portal's theme: the page around the frame and the frame's color-scheme, which the app's
  // page sees as prefers-color-scheme (the frame protocol itself has no theme command).
  return `<!doctype html>
<html lang="${escapeHtml(page.lang)}" data-theme="${page.theme}"><head><meta charset="utf-8"><title>Bitrix24 (emulated)</title>
<style>body{margin:0;font:13px system-ui,sans-serif;background:${dark ? '#1d2126;color:#e5e9ec' : '#eef2f4;color:#333'}}header{padding:8px 16px;background:${dark ? '#0b66c3' : '#2fc6f6'};color:#fff}
.app-frame-layout{min-height:calc(100vh - 36px)}.app-frame{display:block;border:0;width:100%;height:100%;min-height:calc(100vh - 36px);color-scheme:${page.theme}}
dialog{min-width:320px;max-height:70vh;overflow:auto}dialog ul{list-style:none;padding:0;margin:8px 0}dialog li{margin:2px 0}dialog button{font:inherit}</style></head>
<body><header>${escapeHtml(page.header)}</header>
<form name="${params.formName}" method="post" action="${escapeHtml(action)}" target="${escapeHtml(page.frameName)}">${inputs}</form>
<div id="${params.layoutId}" class="app-frame-layout"><iframe id="${params.frameId}" name="${escapeHtml(page.frameName)}" class="app-frame"></iframe></div>
<dialog id="portal-dialog"><strong id="portal-dialog-title"></strong>
<input id="portal-dialog-search" type="search" placeholder="Search" hidden>
<ul id="portal-dialog-list"></ul>
<button id="portal-dialog-ok" type="button" hidden>Select</button> <button id="portal-dialog-close" type="button">Cancel</button></dialog>
<script type="application/json" id="app-layout-params">${scriptJson(params)}</script>
<script>${APP_LAYOUT_SCRIPT}</script></body></html>`;
}
