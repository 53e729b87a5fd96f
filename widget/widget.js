/* statsvc widget: counts this page view and draws the visit statistics box.
   Options are data- attributes of the script tag (see the README). No cookie,
   no markup from strings, no eval; if the service is down the page stays as it was. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.site) return;
  var opt = script.dataset;
  var base = new URL(script.src, location.href).origin;
  var LABELS = {
    vi: ["Thống kê truy cập", "Đang online", "Đang xem trang này", "Hôm nay", "Hôm qua",
         "Trong tuần", "Tháng này", "Tất cả", "Trang này"],
    en: ["Visit statistics", "Online now", "Reading this page now", "Today", "Yesterday",
         "This week", "This month", "Total", "This page"]
  };
  var ROWS = ["online", "page_online", "today", "yesterday", "week", "month", "total", "page"];
  var rows = [];
  (opt.rows || "online,today,week,total").split(",").forEach(function (r) {
    r = r.trim();
    if (ROWS.indexOf(r) >= 0 && rows.indexOf(r) < 0) rows.push(r);
  });
  var metric = opt.metric === "views" ? "views" : "visits";
  var theme = ["dark", "none"].indexOf(opt.theme) >= 0 ? opt.theme : "light";
  var pad = Math.min(parseInt(opt.pad, 10) || 0, 20);
  var lang = LABELS[opt.lang] ? opt.lang : null;

  // Staff opt-out: after #statsvc-ignore this browser counts nothing on this portal (a flag
  // in its localStorage, all the widget ever stores); #statsvc-count undoes it.
  function ignored() {
    var asked = /^#statsvc-(ignore|count)$/.exec(location.hash);
    var flag = !!asked && asked[1] === "ignore";
    try {
      if (!asked) return localStorage.getItem("statsvc-ignore") === "1";
      if (flag) localStorage.setItem("statsvc-ignore", "1");
      else localStorage.removeItem("statsvc-ignore");
      history.replaceState(history.state, "", location.pathname + location.search);
    } catch (e) {}  // storage blocked: the fragment stays, and holds while it is there
    return flag;
  }

  // What the boxes of one page share: one hit per page view and site, one heartbeat per site.
  var shared = window.__statsvc = window.__statsvc || { nav: 0, sites: {} };
  if (shared.ignore === undefined) shared.ignore = ignored();
  var counting = opt.count !== "false" && !shared.ignore;
  var hub = shared.sites[opt.site] = shared.sites[opt.site] ||
    { hits: {}, boxes: [], last: null, timer: 0 };

  function el(parent, tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = "statsvc-" + cls;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  var CSS = ":host{all:initial;display:block}" +
    ".statsvc-box{font:14px/1.5 system-ui,sans-serif;max-width:18em;overflow:hidden;" +
    "border-radius:6px;color:var(--statsvc-fg,#1f2937);background:var(--statsvc-bg,#fff);" +
    "border:1px solid var(--statsvc-border,#d1d5db);--a:var(--statsvc-accent,#b91c1c)}" +
    ".statsvc-dark{color:var(--statsvc-fg,#e5e7eb);background:var(--statsvc-bg,#111827);" +
    "border-color:var(--statsvc-border,#374151);--a:var(--statsvc-accent,#f59e0b)}" +
    ".statsvc-title{padding:.4em .75em;font-weight:600;background:var(--a);" +
    "color:var(--statsvc-title-fg,#fff)}.statsvc-dark .statsvc-title{color:var(--statsvc-title-fg,#111827)}" +
    "ul{list-style:none;margin:0;padding:.25em .75em .6em}" +
    "li{display:flex;justify-content:space-between;gap:1em;padding:.15em 0}" +
    "li:before{content:'\\2022';color:var(--a);margin-right:-.6em}" +
    ".statsvc-label{flex:1}.statsvc-value{font-variant-numeric:tabular-nums;font-weight:600}";

  function Box(mount) {
    var values = {};
    var root = mount;
    if (theme !== "none" && mount.attachShadow) {
      root = mount.attachShadow({ mode: "open" });
      try {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
      } catch (e) {
        el(root, "style", null, CSS);
      }
    }
    var box = el(root, "div", "box statsvc-" + theme);
    var title = el(box, "div", "title");
    title.id = "statsvc-title-" + (shared.ids = (shared.ids || 0) + 1);
    var list = el(box, "ul", "list");
    list.setAttribute("aria-labelledby", title.id);
    rows.forEach(function (row) {
      var item = el(list, "li", "row statsvc-" + row);
      values[row] = [el(item, "span", "label"), el(item, "span", "value", "…")];
    });

    function words(language) {
      var w = LABELS[language];
      box.lang = language;  // a screen reader then speaks the box in its own language
      title.textContent = opt.title || w[0];
      rows.forEach(function (row) {
        values[row][0].textContent = w[ROWS.indexOf(row) + 1] + ":";
      });
    }
    words(lang || "vi");

    this.show = function (data) {
      if (!mount.parentNode) return;
      var language = lang || (LABELS[data.locale] ? data.locale : "vi");
      words(language);
      var page = data.page || {};
      var figures = data[metric] || {};
      rows.forEach(function (row) {
        var n = row === "online" ? data.online : row === "page_online" ? page.online :
          row === "page" ? page.total : figures[row];
        values[row][1].textContent = typeof n !== "number" ? "…" : pad ?
          String(n).padStart(pad, "0") : n.toLocaleString(language === "en" ? "en-US" : "vi-VN");
      });
    };
    // the service is down: take the box away again, leaving the page as it was
    this.vanish = function () {
      if (mount.parentNode) mount.parentNode.removeChild(mount);
    };
  }

  function send(path, body) {
    return fetch(base + path, {
      method: body ? "POST" : "GET", body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", keepalive: !!body, cache: "no-store"
    }).then(function (r) {
      if (!r.ok) throw r.status;
      return r.json();
    });
  }

  function viewId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function hit() {
    if (!hub.hits[shared.nav]) {
      // where the reader came from: the referrer's scheme and host only (the service keeps
      // the host); none after an SPA navigation, whose referrer is this site
      var from = !shared.nav && /^[a-z][\w+.-]*:\/\/[^\/?#]*/i.exec(document.referrer);
      var body = { site: opt.site, url: location.href, id: viewId(), referrer: from ? from[0] : "" };
      hub.hits[shared.nav] = send("/api/v1/hit", body).catch(function (status) {
        if (typeof status === "number" && status < 500) throw status;  // refused: no retry
        return new Promise(function (done) { setTimeout(done, 2000); }).then(function () {
          return send("/api/v1/hit", body);  // the same page-view id: never counted twice
        });
      }).then(function (data) {
        hub.last = data;
        return data;
      });
    }
    return hub.hits[shared.nav];
  }

  function ping() {
    if (document.visibilityState !== "visible" || !hub.last) return;
    send("/api/v1/ping", { site: opt.site, url: location.href }).then(function (r) {
      hub.last.online = r.online;
      if (hub.last.page && r.page) hub.last.page.online = r.page.online;
      hub.boxes.forEach(function (b) { b.show(hub.last); });
    }).catch(function () {
      clearInterval(hub.timer);  // the service is gone: stop asking, quietly
      document.removeEventListener("visibilitychange", ping);
    });
  }

  function start(box) {
    function refresh() {
      var reply = counting ? hit() : send("/api/v1/counts?site=" + encodeURIComponent(opt.site) +
        "&path=" + encodeURIComponent(location.pathname + location.search));
      // data-group: the group's figures (the view counted for data-site is in them); a
      // failure but "no member" falls back quietly
      if (opt.group) reply = reply.then(function (own) {
        return send("/api/v1/counts?group=" + encodeURIComponent(opt.group) + "&site=" +
          encodeURIComponent(opt.site)).then(function (group) {
          if (group.member) return group;
          console.warn("statsvc: site " + opt.site + " is not in group " + opt.group +
            ": the box shows the site's own figures");
          return own;
        }, function () { return own; });
      });
      reply.then(box.show, box.vanish);
    }
    if (counting) {
      if (!opt.group) hub.boxes.push(box);  // a heartbeat's online is the site's
      if (!hub.timer) {
        hub.timer = setInterval(ping, Math.max(parseFloat(opt.pingInterval) || 60, 1) * 1000);
        document.addEventListener("visibilitychange", ping);
      }
    }
    refresh();
    if (opt.spa === "true" || opt.spa === "") {
      if (!shared.hooked) {
        shared.hooked = true;
        var path = location.pathname + location.search;
        var changed = function () {
          var now = location.pathname + location.search;
          if (now === path) return;
          path = now;
          shared.nav += 1;
          window.dispatchEvent(new Event("statsvc:navigate"));
        };
        var push = history.pushState;
        history.pushState = function () {
          var result = push.apply(this, arguments);
          changed();
          return result;
        };
        window.addEventListener("popstate", changed);
      }
      window.addEventListener("statsvc:navigate", refresh);
    }
  }

  function mount() {
    var target = null;
    try {
      target = opt.target ? document.querySelector(opt.target) : null;
    } catch (e) {
      target = null;  // not a selector: draw where the script stands
    }
    if (!target && opt.target && document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", mount);  // the target is yet to come
      return;
    }
    var place = document.createElement("div");
    if (target) target.appendChild(place);
    else script.parentNode.insertBefore(place, script);
    var box = null;
    try {
      box = new Box(place);
    } catch (e) {
      box = { show: function () {}, vanish: function () {} };  // count all the same
    }
    // a prerendered page is not a view until the reader actually opens it
    if (document.prerendering) {
      document.addEventListener("prerenderingchange", function () { start(box); }, { once: true });
    } else {
      start(box);
    }
  }

  mount();
})();
