// Card entry: the browser tokenises the card directly at the payment provider and only the
// returned pm_… id is submitted to Mercato. The card inputs have no name, so they are never posted.
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  if (!form) return;
  var hidden = document.getElementById("payment-method");
  var error = document.getElementById("card-error");
  var button = document.getElementById("pay");
  var busy = false;

  // A saved address chosen: the new-address fields (required when used) wait, disabled.
  var newAddress = document.getElementById("new-address");
  var choices = form.querySelectorAll("input[type=radio][name=address_id]");
  function followChoice() {
    var chosen = form.querySelector("input[type=radio][name=address_id]:checked");
    newAddress.disabled = choices.length > 0 && (!chosen || chosen.value !== "new");
  }
  if (newAddress) {
    choices.forEach(function (choice) { choice.addEventListener("change", followChoice); });
    followChoice();
  }

  function value(id) { return document.getElementById(id).value.replace(/\s+/g, ""); }
  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    button.disabled = false;
    busy = false;
  }

  form.addEventListener("submit", function (event) {
    if (hidden.value) return; // already tokenised: submit as is
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    error.hidden = true;
    var body = new URLSearchParams();
    body.set("type", "card");
    body.set("card[number]", value("card-number"));
    body.set("card[exp_month]", value("card-exp-month"));
    body.set("card[exp_year]", value("card-exp-year"));
    body.set("card[cvc]", value("card-cvc"));
    fetch(form.dataset.sandbox + "/v1/payment_methods", {
      method: "POST",
      headers: { "Authorization": "Bearer " + form.dataset.key },
      body: body,
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok || !result.data.id) {
        var message = result.data && result.data.error && result.data.error.message;
        fail(message || "Please check your card details.");
        return;
      }
      hidden.value = result.data.id;
      form.submit();
    }).catch(function () {
      fail("We couldn't reach the payment provider. Please try again.");
    });
  });
})();
