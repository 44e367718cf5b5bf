// Small behaviours of the administration pages, bound by data attributes. The
// Content-Security-Policy allows no inline script or handler, so they live here; listeners
// sit on the document, so content htmx swaps in later works too.
(function () {
  "use strict";

  // <select data-autosubmit> and <input data-autosubmit>: a change sends the form.
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form) {
      field.form.submit();
    }
  });

  // <input data-select-on-focus>: focusing selects the whole value, ready to copy.
  document.addEventListener("focusin", function (event) {
    var field = event.target.closest("[data-select-on-focus]");
    if (field) {
      field.select();
    }
  });

  function copyText(text, source) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Over plain http (embedded mode on a local network) the clipboard API is absent.
    var area = source;
    if (!area || !area.select) {
      area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
    }
    area.select();
    var copied = document.execCommand("copy");
    if (area !== source) {
      area.remove();
    }
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  // <button data-copy="ID" data-done="Copied">: copies the value (a field) or the text of
  // the element with that id, then says so on the button.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    var isField = source.matches("input, textarea");
    if (isField) {
      source.select();
    }
    copyText(isField ? source.value : source.textContent, isField ? source : null).then(
      function () {
        if (button.dataset.done) {
          button.textContent = button.dataset.done;
        }
      },
      function () {}
    );
  });
})();
