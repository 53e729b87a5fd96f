/* The snippet builder: rewrites the snippet as the form changes. */
(function () {
  "use strict";
  var form = document.getElementById("builder");
  var out = document.getElementById("snippet");
  if (!form || !out) return;
  var base = out.dataset.base;

  function attr(name, value) {
    return value ? " data-" + name + '="' + value + '"' : "";
  }

  // the page's path as the editor gives it: a path, or the page's whole address
  function pagePath(text) {
    text = text.trim();
    if (!text) return "";
    try {
      var url = new URL(text, "https://portal.invalid/");
      return url.pathname + url.search;
    } catch (e) {
      return "";
    }
  }

  function render() {
    var f = new FormData(form);
    var site = String(f.get("site") || "demo").replace(/[^a-z0-9_-]/g, "");
    var rows = f.getAll("rows").join(",");
    var lang = f.get("lang"), metric = f.get("metric"), theme = f.get("theme");
    var pad = parseInt(f.get("pad"), 10) || 0;
    var path = pagePath(String(f.get("path") || ""));
    var options = attr("lang", lang) +
      attr("metric", metric === "visits" ? "" : metric) +
      attr("rows", rows === "online,today,week,total" ? "" : rows) +
      attr("pad", pad ? String(pad) : "") +
      attr("theme", theme === "light" ? "" : theme);
    var query = "site=" + site + (lang ? "&lang=" + lang : "") +
      (metric === "views" ? "&metric=views" : "") + (rows ? "&rows=" + rows : "") +
      (pad ? "&pad=" + pad : "") + (theme === "dark" ? "&theme=dark" : "") +
      (path ? "&path=" + encodeURIComponent(path).replace(/%2F/g, "/") : "");
    out.textContent = '<div id="thong-ke"></div>\n' +
      '<script src="' + base + '/widget.js" data-site="' + site + '" data-target="#thong-ke"' +
      options + ' async></script>\n' +
      '<noscript><img src="' + base + '/api/v1/badge.svg?' + query.replace(/&/g, "&amp;") +
      '" alt="Thống kê truy cập"></noscript>';
  }

  form.addEventListener("input", render);
  form.addEventListener("change", render);
  // fields of the form placed outside it (form="builder"): their events do not reach it
  Array.prototype.forEach.call(document.querySelectorAll('[form="builder"]'), function (el) {
    el.addEventListener("input", render);
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  render();
})();
