// The console's little plain JavaScript: what htmx doesn't do. No inline script anywhere (CSP).
(function () {
  "use strict";
  // A dangerous button stays disabled until the typed confirmation matches (data-confirm-text).
  function armConfirmations(root) {
    root.querySelectorAll("input[data-confirm-text]").forEach(function (input) {
      var button = input.form && input.form.querySelector("button[data-confirm-button]");
      if (!button || input.dataset.armed) { return; }
      input.dataset.armed = "1";
      var check = function () { button.disabled = input.value.trim() !== input.dataset.confirmText; };
      input.addEventListener("input", check);
      check();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { armConfirmations(document); });
  document.addEventListener("htmx:load", function (event) { armConfirmations(event.target); });
})();
