// The statsvc dashboard's only script: every few seconds, fetch the site's online and today's
// figures and write them in place (textContent only). It stops at the first failure, for
// example once the session has ended, and marks the figures as stale. A report page's
// print button prints it (no inline script under the page's CSP).
(function () {
  "use strict";
  var print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", function () { window.print(); });
  var box = document.querySelector("[data-live]");
  if (!box) return;
  var url = box.getAttribute("data-live");
  var seconds = Math.max(1, Number(box.getAttribute("data-live-seconds")) || 10);
  var format = new Intl.NumberFormat(document.documentElement.lang || "vi");  // as the page writes them
  var timer = setInterval(refresh, seconds * 1000);

  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", cache: "no-store", redirect: "error" })
      .then(function (reply) {
        if (!reply.ok) throw new Error("status " + reply.status);
        return reply.json();
      })
      .then(show)
      .catch(function () {
        clearInterval(timer);
        box.classList.add("stale");
      });
  }

  function show(data) {
    var fields = box.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var value = data;
      var path = fields[i].getAttribute("data-field").split(".");
      for (var j = 0; j < path.length && value != null; j++) value = value[path[j]];
      if (typeof value === "number") fields[i].textContent = format.format(value);
    }
    box.classList.remove("stale");
  }
})();
