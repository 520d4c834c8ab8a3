// A list's checkbox column (templates/leads/_list_results.html): "select all" ticks every row
// of the page, and the bulk buttons are enabled while a row is ticked. Listens on the document,
// so it keeps working after htmx swaps the results.
(function () {
  "use strict";
  function refresh(form) {
    var ticked = form.querySelectorAll('input[name="lead"]:checked').length;
    form.querySelectorAll("[data-needs-selection]").forEach(function (button) { button.disabled = ticked === 0; });
    form.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = String(ticked); });
  }
  document.addEventListener("change", function (event) {
    var box = event.target;
    var form = box.closest && box.closest("form");
    if (!form) { return; }
    if (box.matches("[data-select-all]")) {
      form.querySelectorAll('input[name="lead"]').forEach(function (row) { row.checked = box.checked; });
    }
    if (box.matches("[data-select-all], input[name='lead']")) { refresh(form); }
  });
})();
