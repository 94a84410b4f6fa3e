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

// Catalog import (catalog page): sends the chosen CSV file as the request body with the CSRF
// token, shows the upload and then the server's progress lines, then the report it renders.
(function () {
  var form = document.querySelector('[data-import-form]');
  if (!form) return;
  var bar = form.querySelector('[data-import-progress]');
  var status = form.querySelector('[data-import-status]');
  var report = document.querySelector('[data-import-report]');
  var token = document.querySelector('meta[name="csrf-token"]');
  var say = function (key, n) {
    status.textContent = (form.getAttribute('data-msg-' + key) || '').replace('{n}', n);
  };
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = form.querySelector('input[type=file]');
    var file = input.files && input.files[0];
    if (!file) { say('choose', ''); return; }
    var button = form.querySelector('button');
    button.disabled = true;
    report.textContent = '';
    bar.hidden = false;
    bar.max = 1;
    bar.value = 0;
    say('uploading', '');
    var total = 0;
    var seen = 0;
    var finished = false;
    var handle = function (msg) {
      if (msg.total !== undefined) {
        total = Math.max(1, msg.total);
        bar.max = total * 2;
      } else if (msg.progress) {
        var p = msg.progress;
        bar.value = Math.min(bar.max, p.rows_read + p.rows_written);
        if (p.rows_written > 0) say('writing', p.rows_written); else say('checking', p.rows_read);
      } else if (msg.done !== undefined) {
        finished = true;
        bar.value = bar.max;
        bar.hidden = true;
        status.textContent = '';
        report.innerHTML = msg.done;
      } else if (msg.failed !== undefined) {
        finished = true;
        bar.hidden = true;
        status.textContent = msg.failed;
      }
    };
    var read = function (text) {
      var end;
      while ((end = text.indexOf('\n', seen)) >= 0) {
        var one = text.slice(seen, end);
        seen = end + 1;
        if (one) handle(JSON.parse(one));
      }
    };
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.getAttribute('action'));
    xhr.setRequestHeader('Content-Type', 'text/csv');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token.getAttribute('content'));
    xhr.upload.onprogress = function (e) {
      // Once the server counts rows, the bar is its: a late upload event must not take it back.
      if (e.lengthComputable && total === 0) { bar.max = e.total; bar.value = e.loaded; }
    };
    xhr.onprogress = function () { read(xhr.responseText); };
    xhr.onloadend = function () {
      if (xhr.status === 200) read(xhr.responseText);
      if (!finished) { bar.hidden = true; say('failed', ''); }
      button.disabled = false;
      input.value = '';
    };
    xhr.send(file);
  });
})();
