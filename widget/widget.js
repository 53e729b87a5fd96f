/* statsvc widget: counts this page view and draws the visit statistics box.
   Options are data- attributes of the script tag (see the README). No cookie,
   no innerHTML, no eval; if the service is down the page stays as it was. */
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
  var rows = (opt.rows || "online,today,week,total").split(",").map(function (r) {
    return r.trim();
  }).filter(function (r) { return ROWS.indexOf(r) >= 0; });
  var metric = opt.metric === "views" ? "views" : "visits";
  var theme = ["dark", "none"].indexOf(opt.theme) >= 0 ? opt.theme : "light";
  var pad = Math.min(parseInt(opt.pad, 10) || 0, 20);
  var counting = opt.count !== "false";
  var lang = LABELS[opt.lang] ? opt.lang : null;
  var box = null;
  var mount = null;
  var values = {};
  var last = null;

  function label(i) { return LABELS[lang || "vi"][i]; }

  function el(parent, tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = "statsvc-" + cls;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function host() {
    var target = opt.target ? document.querySelector(opt.target) : null;
    if (!target) {
      target = mount = document.createElement("div");
      script.parentNode.insertBefore(target, script);
    }
    if (theme === "none") return target;
    var root = target.attachShadow ? target.attachShadow({ mode: "open" }) : target;
    var css = "ul{list-style:none;margin:0;padding:.25em .75em .6em}" +
      ":host{all:initial;display:block}" +
      ".statsvc-box{font:14px/1.5 system-ui,sans-serif;color:var(--statsvc-fg,#1f2937);" +
      "background:var(--statsvc-bg,#fff);border:1px solid var(--statsvc-border,#d1d5db);" +
      "border-radius:6px;max-width:18em;overflow:hidden}" +
      ".statsvc-title{margin:0;padding:.4em .75em;font-size:1em;font-weight:600;" +
      "color:var(--statsvc-title-fg,#fff);background:var(--statsvc-accent,#b91c1c)}" +
      "li{display:flex;justify-content:space-between;gap:1em;padding:.15em 0}" +
      "li:before{content:'\\2022';color:var(--statsvc-accent,#b91c1c);margin-right:-.6em}" +
      ".statsvc-label{flex:1}.statsvc-value{font-variant-numeric:tabular-nums;font-weight:600}" +
      ".statsvc-dark{--statsvc-fg:#e5e7eb;--statsvc-bg:#111827;--statsvc-border:#374151;" +
      "--statsvc-accent:#f59e0b;--statsvc-title-fg:#111827}";
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      el(root, "style", null, css);
    }
    return root;
  }

  function draw() {
    var root = host();
    box = el(root, "section", "box statsvc-" + theme);
    var title = opt.title || label(0);
    box.setAttribute("aria-label", title);
    el(box, "h2", "title", title);
    var list = el(box, "ul", "list");
    list.setAttribute("aria-label", title);
    rows.forEach(function (row) {
      var item = el(list, "li", "row statsvc-" + row);
      el(item, "span", "label", label(ROWS.indexOf(row) + 1) + ":");
      values[row] = el(item, "span", "value", "…");
    });
  }

  function relabel() {
    var title = opt.title || label(0);
    box.setAttribute("aria-label", title);
    box.querySelector(".statsvc-title").textContent = title;
    box.querySelector(".statsvc-list").setAttribute("aria-label", title);
    rows.forEach(function (row) {
      values[row].previousSibling.textContent = label(ROWS.indexOf(row) + 1) + ":";
    });
  }

  function format(n) {
    if (typeof n !== "number") return "…";
    if (pad) return String(n).padStart(pad, "0");
    return n.toLocaleString(lang === "en" ? "en-US" : "vi-VN");
  }

  function show(data) {
    last = data;
    if (!lang) {
      lang = LABELS[data.locale] ? data.locale : "vi";
      relabel();
    }
    var page = data.page || {};
    var figures = data[metric] || {};
    rows.forEach(function (row) {
      var n = row === "online" ? data.online : row === "page_online" ? page.online :
        row === "page" ? page.total : figures[row];
      values[row].textContent = format(n);
    });
  }

  function send(path, body) {
    return fetch(base + path, {
      method: body ? "POST" : "GET", body: body ? JSON.stringify(body) : undefined,
      credentials: "omit", keepalive: !!body, cache: "no-store"
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
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

  // one hit per page view and site, however many boxes the page has
  var shared = window.__statsvc = window.__statsvc || { nav: 0, hits: {} };

  function count() {
    var key = opt.site + " " + shared.nav;
    if (!counting) {
      return send("/api/v1/counts?site=" + encodeURIComponent(opt.site) +
        "&path=" + encodeURIComponent(location.pathname));
    }
    if (!shared.hits[key]) {
      var body = { site: opt.site, url: location.href, referrer: document.referrer, id: viewId(),
        title: document.title.slice(0, 500) };
      shared.hits[key] = send("/api/v1/hit", body).catch(function () {
        return new Promise(function (done) { setTimeout(done, 2000); }).then(function () {
          return send("/api/v1/hit", body);
        });
      });
    }
    return shared.hits[key];
  }

  // the service is down: take the box away again, leaving the page as it was
  function vanish() {
    if (box && box.parentNode) box.parentNode.removeChild(box);
    if (mount && mount.parentNode) mount.parentNode.removeChild(mount);
    box = null;
  }

  function refresh() {
    count().then(function (data) {
      if (box) show(data);
    }).catch(vanish);
  }

  function ping() {
    if (document.visibilityState !== "visible" || !last || !box) return;
    send("/api/v1/ping", { site: opt.site, url: location.href }).then(function (r) {
      last.online = r.online;
      if (last.page && r.page) last.page.online = r.page.online;
      show(last);
    }).catch(function () {});
  }

  try {
    draw();
  } catch (e) {
    return;
  }
  refresh();
  if (counting) {
    var every = Math.max(parseFloat(opt.pingInterval) || 60, 1) * 1000;
    setInterval(ping, every);
    document.addEventListener("visibilitychange", ping);
  }
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
})();
