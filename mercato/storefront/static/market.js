// The header's "Ship to" picker: choosing a country is enough (the form posts itself); without this
// script its "Change" button posts it.
(function () {
  "use strict";
  const select = document.querySelector("select[data-autosubmit]");
  if (!select) return;
  const button = select.form.querySelector("button[type=submit]");
  if (button) button.hidden = true;
  select.addEventListener("change", function () {
    select.form.submit();
  });
})();
