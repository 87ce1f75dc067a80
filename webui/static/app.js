// Optional improvements: everything works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("#entries input.sel").forEach(function (c) {
        if (!c.closest("tr").hidden) c.checked = all.checked;
      });
    });
  }
  // Filter the rows of this page as you type; the form still filters the
  // whole directory on the server when submitted.
  var filter = document.getElementById("filter");
  var rows = document.querySelectorAll("#entries tbody tr[data-name]");
  if (filter && rows.length) {
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      rows.forEach(function (tr) {
        tr.hidden = q !== "" && tr.dataset.name.toLowerCase().indexOf(q) < 0;
      });
    });
  }
  // Nothing selected: say so instead of a server error page.
  var form = document.getElementById("select-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      if (!form.querySelector("input.sel:checked")) {
        ev.preventDefault();
        alert("Select files or directories first.");
      }
    });
  }
});
