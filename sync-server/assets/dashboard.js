// SnapKasir dashboard: the little behaviour HTML alone lacks. No inline script (the CSP
// forbids it); pages work without this file.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  // fetch() that changes something: the CSRF token as a header.
  function post(url, body, method) {
    var headers = { "X-CSRF-Token": csrf };
    if (body && !(body instanceof FormData) && typeof body !== "string") {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, { method: method || "POST", headers: headers, body: body, credentials: "same-origin" });
  }
  window.snapkasir = { csrf: csrf, post: post };
  // <form data-confirm="Are you sure?">: asks before submitting.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // <button data-copy="field-id" data-copied="Copied">: copies the field's value (the Apps
  // page's secret, shown once) and says so on the button.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) { return; }
    var field = document.getElementById(b.getAttribute("data-copy"));
    if (!field) { return; }
    var said = function () { b.textContent = b.getAttribute("data-copied") || b.textContent; };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(said, function () { document.execCommand("copy"); said(); });
    } else {
      document.execCommand("copy");
      said();
    }
  });
  // Menus close when something else is clicked.
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) { d.removeAttribute("open"); }
    });
  });
})();
