/*
 * The portal page's own script around an application's frame: the emulator's BX.rest.AppLayout
 * (core modules/rest/install/js/rest/applayout.js). It submits the form into the frame, takes the
 * frame's postMessage commands — a string `command:paramsJSON:callbackId:appSid` or an object
 * `{method, params, callback, appSid}` — from the application's origin and this frame's appSid
 * only, runs the ones its interface has (anything else is ignored, with no answer) and answers a
 * callback with `callbackId:resultJSON`, posted to the application's origin only.
 * What needs the portal's server (access_refresh, set_installed, the user and CRM lists, a
 * placement's own commands) goes to POST /marketplace/frame/<sid>/<action>.
 * The page's data: <script type="application/json" id="app-layout-params"> (see portal-page.ts).
 */
(function () {
  'use strict';
  var params = JSON.parse(document.getElementById('app-layout-params').textContent);
  var frame = document.getElementById(params.frameId);
  var layout = document.getElementById(params.layoutId);
  var dialog = document.getElementById('portal-dialog');
  var list = document.getElementById('portal-dialog-list');
  var search = document.getElementById('portal-dialog-search');
  var ok = document.getElementById('portal-dialog-ok');
  var initData = params.initData;

  // The core's split(): the command is the first part, the callback and appSid the last two, and
  // everything between (JSON that may hold colons) the parameters.
  function split(text) {
    var parts = text.split(':');
    return [parts[0], parts.slice(1, parts.length - 2).join(':'), parts[parts.length - 2], parts[parts.length - 1]];
  }

  // AppLayout.query: the portal's server, for this frame's session.
  function query(action, data) {
    return fetch('/marketplace/frame/' + params.appSid + '/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(data || {}),
    }).then(function (response) {
      return response.json();
    });
  }

  // A stand-in for the portal's dialogs (the user selector popup, the CRM selector): a list to
  // pick from, checkboxes and a Select button when several may be chosen. Closing it answers
  // nothing, as the core's popups (autoHide) call back only on a choice.
  function choose(kind, items, multiple, searchable, done) {
    document.getElementById('portal-dialog-title').textContent = kind;
    dialog.dataset.kind = kind;
    ok.hidden = !multiple;
    list.replaceChildren();
    items.forEach(function (item) {
      var li = document.createElement('li');
      if (multiple) {
        var label = document.createElement('label');
        var box = document.createElement('input');
        box.type = 'checkbox';
        box.value = item.id;
        box.setAttribute('data-pick', item.id);
        label.append(box, ' ' + item.title);
        li.append(label);
      } else {
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = item.title;
        button.setAttribute('data-pick', item.id);
        button.onclick = function () {
          dialog.close();
          done([item.value]);
        };
        li.append(button);
      }
      list.append(li);
    });
    ok.onclick = function () {
      var picked = items.filter(function (item) {
        return list.querySelector('input[value="' + item.id + '"]').checked;
      });
      dialog.close();
      done(picked.map(function (item) {
        return item.value;
      }));
    };
    search.hidden = !searchable;
    if (!dialog.open) dialog.showModal();
  }
  document.getElementById('portal-dialog-close').onclick = function () {
    dialog.close();
  };

  // MessageInterface: the commands of an application frame, each (params, cb).
  var commands = {
    getInitData: function (p, cb) {
      cb(initData);
      initData.FIRST_RUN = false;
    },
    // Only the placement's own commands and events (the core leaves out every command of the
    // base interface and placementBindEvent).
    getInterface: function (p, cb) {
      cb({ command: params.placementCommands.slice(), event: params.placementEvents.slice() });
    },
    refreshAuth: function (p, cb) {
      query('access_refresh').then(function (data) {
        if (!data.access_token) return;
        initData.AUTH_ID = data.access_token;
        initData.AUTH_EXPIRES = data.expires_in;
        initData.REFRESH_ID = data.refresh_token;
        cb({ AUTH_ID: initData.AUTH_ID, AUTH_EXPIRES: initData.AUTH_EXPIRES, REFRESH_ID: initData.REFRESH_ID });
      });
    },
    // Synchronous, on the frame's layout: sizes apply in the order the frame asked for them, so
    // the latest one wins.
    resizeWindow: function (p, cb) {
      var width = p.width == '100%' ? p.width : (parseInt(p.width, 10) || 100) + 'px';
      var height = parseInt(p.height, 10);
      if (width) layout.style.width = width;
      if (height) layout.style.height = height + 'px';
      var box = layout.getBoundingClientRect();
      cb({ width: box.width, height: box.height });
    },
    setTitle: function (p, cb) {
      document.title = p.title;
      cb(p);
    },
    setScroll: function (p, cb) {
      if (p && typeof p.scroll != 'undefined' && p.scroll >= 0) window.scrollTo(window.scrollX, parseInt(p.scroll, 10));
      cb(p);
    },
    reloadWindow: function () {
      window.location.reload();
    },
    // The user's "first run" flag (FIRST_RUN until the application sets it).
    setInstall: function (p, cb) {
      query('set_install', { install: !!p.install }).then(function () {
        cb(p);
      });
    },
    setInstallFinish: function (p) {
      var v = typeof p.value == 'undefined' || p.value !== false ? 'Y' : 'N';
      query('set_installed', { v: v }).then(function (data) {
        var url = new URL(window.location.href);
        url.searchParams.set('install_finished', data.result ? 'Y' : 'N');
        window.location = url.toString();
      });
    },
    selectUser: function (p, cb) {
      var mult = parseInt(p.mult + 0, 10) === 1;
      query('user_selector').then(function (users) {
        var items = users.map(function (u) {
          return { id: u.id, title: u.name, value: u };
        });
        choose('users', items, mult, false, function (picked) {
          if (mult) cb(picked);
          else if (picked.length) cb(picked[0]);
        });
      });
    },
    selectCRM: function (p, cb) {
      var show = function (found) {
        var items = found.map(function (e) {
          return { id: e.id, title: e.title, value: e };
        });
        choose('crm', items, !!p.multiple, true, function (picked) {
          var selected = {};
          picked.forEach(function (e) {
            (selected[e.type] = selected[e.type] || []).push(e);
          });
          cb(selected);
        });
      };
      search.value = '';
      search.oninput = function () {
        query('crm_selector', { entityType: p.entityType, search: search.value }).then(show);
      };
      query('crm_selector', { entityType: p.entityType, search: '' }).then(show);
    },
  };
  // MessageInterfacePlacement: a placement other than DEFAULT may bind to its placement's events;
  // no placement the emulator opens has any, so nothing is bound (and nothing answered).
  if (params.placement !== 'DEFAULT') commands.placementBindEvent = function () {};
  // The placement's own commands (a robot's settings: setPropertyValue) are the portal server's.
  params.placementCommands.forEach(function (name) {
    commands[name] = function (p, cb) {
      query('placement/' + encodeURIComponent(name), p).then(cb);
    };
  });

  window.addEventListener('message', function (event) {
    if (event.origin !== params.appOrigin) return;
    var method, args, callback, appSid;
    if (event.data !== null && typeof event.data === 'object') {
      method = event.data.method;
      appSid = event.data.appSid;
      callback = event.data.callback;
      args = event.data.params || [];
    } else if (typeof event.data === 'string') {
      var cmd = split(event.data);
      method = cmd[0];
      callback = cmd[2];
      appSid = cmd[3];
      try {
        args = cmd[1] ? JSON.parse(cmd[1]) : [];
      } catch (error) {
        return;
      }
    } else {
      return;
    }
    if (appSid != params.appSid) return;
    if (!Object.prototype.hasOwnProperty.call(commands, method) || params.denied.indexOf(method) >= 0) return;
    var answer = !callback
      ? function () {}
      : function (result) {
          if (!frame.contentWindow) return;
          frame.contentWindow.postMessage(callback + ':' + (typeof result == 'undefined' ? '' : JSON.stringify(result)), params.appOrigin);
        };
    commands[method](args, answer);
  });

  document.forms[params.formName].submit();
})();
