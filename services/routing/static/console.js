// Progressive enhancement only: every console page works without this file.
(function () {
  "use strict";
  // Move focus to the error summary or the confirmation so it is read out first.
  var first = document.getElementById("ringkasan") || document.getElementById("selesai");
  if (first) { first.focus(); }
  // A second click on a form's button while the first post is under way sends nothing.
  Array.prototype.forEach.call(document.querySelectorAll("form[method=post]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  });
  // A canned answer fills the answer's text box (which the officer can still edit).
  Array.prototype.forEach.call(document.querySelectorAll("select.canned-pick"), function (pick) {
    pick.addEventListener("change", function () {
      var into = document.getElementById(pick.getAttribute("data-into"));
      if (into && pick.value) { into.value = pick.value; into.focus(); }
    });
  });
  // Coming back with the back button shows the page as it was left: let its forms post again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
      form.removeAttribute("data-sent");
    });
  });
})();
