// API tokens page: "Copy" buttons for the new key and the examples (without script, select and copy).
(function () {
  "use strict";
  var status = document.getElementById("copy-status");
  if (!status || !navigator.clipboard) return;
  function textOf(el) { return el.value !== undefined ? el.value : el.textContent; }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copy);
    if (!target) return;
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(textOf(target)).then(function () {
        status.textContent = status.dataset.copied;
        button.textContent = status.dataset.copied;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        status.textContent = status.dataset.failed;
      });
    });
  });
})();
