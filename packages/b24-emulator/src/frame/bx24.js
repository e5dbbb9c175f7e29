/*
 * The emulator's BX24 library, served at /api/v1/ as Bitrix24 serves its own at
 * //api.bitrix24.com/api/v1/. It offers the part of the BX24 API an application page uses:
 * init, getAuth, refreshAuth, getLang, getDomain, isAdmin, installFinish, resizeWindow,
 * fitWindow, getScrollSize, setTitle, selectUser, selectUsers, selectCRM, placement.info and
 * placement.call. The dialogs are the portal's: the library asks the page around the frame to
 * open them and calls back with what the user chose (selectUser: {id, name, …} or nothing when
 * the dialog is closed; selectUsers: an array; selectCRM: {deal: [{id: 'D_3', title, …}], …}).
 * As in Bitrix24, the frame's window.name is
 * "DOMAIN|PROTOCOL|APP_SID" and everything is asked of the portal page around the frame by
 * postMessage; the portal page answers only its own frame, and this library only its portal.
 */
(function () {
  'use strict';
  if (window.BX24) return;
  var parts = String(window.name || '').split('|');
  var domain = parts[0] || '';
  var appSid = parts[2] || '';
  var portalOrigin = (parts[1] === '1' ? 'https://' : 'http://') + domain;
  var pending = {};
  var nextCallback = 1;
  var data = null;
  var readyCallbacks = [];

  window.addEventListener('message', function (event) {
    if (event.origin !== portalOrigin || typeof event.data !== 'string') return;
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message || message.bx24 !== 1 || !pending[message.callback]) return;
    var callback = pending[message.callback];
    delete pending[message.callback];
    callback(message.result);
  });

  function send(cmd, params, callback) {
    if (!domain || window.parent === window) throw new Error('BX24: this page is not open in a Bitrix24 frame');
    var id = String(nextCallback++);
    pending[id] = callback || function () {};
    window.parent.postMessage(JSON.stringify({ bx24: 1, appSid: appSid, cmd: cmd, params: params || {}, callback: id }), portalOrigin);
  }

  function adopt(auth) {
    data.AUTH_ID = auth.AUTH_ID;
    data.REFRESH_ID = auth.REFRESH_ID;
    data.AUTH_EXPIRES = auth.AUTH_EXPIRES;
    data.expiresAt = Date.now() + Number(auth.AUTH_EXPIRES) * 1000;
  }

  var BX24 = {
    init: function (callback) {
      if (data) return void setTimeout(callback, 0);
      readyCallbacks.push(callback);
      if (readyCallbacks.length > 1) return;
      send('getInitData', {}, function (initData) {
        data = initData;
        adopt(initData);
        var callbacks = readyCallbacks;
        readyCallbacks = [];
        callbacks.forEach(function (cb) {
          cb();
        });
      });
    },
    getAuth: function () {
      if (!data || Date.now() >= data.expiresAt) return false;
      return {
        access_token: data.AUTH_ID,
        refresh_token: data.REFRESH_ID,
        expires_in: Math.round((data.expiresAt - Date.now()) / 1000),
        domain: data.DOMAIN,
        member_id: data.MEMBER_ID,
      };
    },
    refreshAuth: function (callback) {
      send('refreshAuth', {}, function (auth) {
        adopt(auth);
        if (callback) callback(BX24.getAuth());
      });
    },
    getLang: function () {
      return data ? data.LANG : 'en';
    },
    getDomain: function () {
      return data ? data.DOMAIN : domain;
    },
    isAdmin: function () {
      return !!(data && data.IS_ADMIN);
    },
    installFinish: function () {
      send('installFinish', {});
    },
    resizeWindow: function (width, height, callback) {
      send('resizeWindow', { width: width, height: height }, callback);
    },
    getScrollSize: function () {
      var root = document.documentElement;
      return { scrollWidth: Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0), scrollHeight: Math.max(root.scrollHeight, document.body ? document.body.offsetHeight : 0) };
    },
    // As the real library: the frame takes the full width and the height of its content.
    fitWindow: function (callback) {
      BX24.resizeWindow('100%', BX24.getScrollSize().scrollHeight, callback);
    },
    selectUser: function (callback) {
      send('selectUser', { mult: false }, function (user) {
        if (callback) callback(user || null);
      });
    },
    selectUsers: function (callback) {
      send('selectUser', { mult: true }, function (users) {
        if (callback) callback(users || []);
      });
    },
    selectCRM: function (params, callback) {
      if (typeof params === 'function') {
        callback = params;
        params = {};
      }
      params = params || {};
      send('selectCRM', { entityType: params.entityType || [], multiple: params.multiple === true, value: params.value || {} }, function (selected) {
        if (callback) callback(selected || {});
      });
    },
    setTitle: function (title, callback) {
      send('setTitle', { title: String(title) }, callback);
    },
    placement: {
      info: function () {
        return data ? { placement: data.PLACEMENT, options: data.PLACEMENT_OPTIONS } : { placement: '', options: {} };
      },
      call: function (command, params, callback) {
        send('placement', { command: command, params: params || {} }, callback);
      },
    },
  };
  window.BX24 = BX24;
})();
