// Progressive enhancement only: the dashboard works without this file.
// A changed topic, language or list filter reloads the page at once.
"use strict";
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field && field.form && field.hasAttribute("data-autosubmit")) {
    field.form.submit();
  }
});
