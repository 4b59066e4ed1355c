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

  // The billing address is the shipping one unless the box is unticked: then its fields appear.
  var billingSame = document.getElementById("billing-same");
  var billingSlot = document.getElementById("billing-slot");
  var billingTemplate = document.getElementById("billing-template");
  if (billingSame && billingSlot && billingTemplate) {
    billingSame.addEventListener("change", function () {
      billingSlot.textContent = "";
      if (!billingSame.checked) billingSlot.appendChild(billingTemplate.content.cloneNode(true));
    });
  }

  // The delivery options and the totals follow the address: a change asks orders for a new quote
  // (the same request the "Update delivery options" button makes without JavaScript), and the
  // delivery choices, the summary and the amount to pay are replaced by the answer's, in place, so
  // nothing typed is lost.
  var update = document.getElementById("update-delivery");
  var pending = null, asked = 0;
  function replace(fresh, selector) {
    var now = document.querySelector(selector), next = fresh.querySelector(selector);
    if (now && next) now.replaceWith(next);
  }
  function followMethods() {
    form.querySelectorAll("input[name=shipping_method]").forEach(function (method) {
      method.addEventListener("change", requote);
    });
  }
  function requote() {
    // A new address is quoted once it is complete; a half-typed one waits.
    var fields = newAddress && !newAddress.disabled ? newAddress.querySelectorAll("[required]") : [];
    for (var i = 0; i < fields.length; i++) if (!fields[i].value.trim()) return;
    var body = new URLSearchParams(new FormData(form)), mine = ++asked;
    // One quote at a time, in order (the cart keeps the address each one sends), and a change
    // superseded before its turn is not sent at all: only the latest answer is shown.
    pending = (pending || Promise.resolve()).then(function () {
      if (mine !== asked) return null;
      return fetch(update.getAttribute("formaction"), {
        method: "POST", body: body, credentials: "same-origin"
      }).then(function (response) { return response.text(); });
    }).then(function (html) {
      if (!html || mine !== asked) return;
      var fresh = new DOMParser().parseFromString(html, "text/html");
      replace(fresh, "#delivery");
      replace(fresh, ".summary");
      replace(fresh, "#pay");
      replace(fresh, "#no-card-needed");
      replace(fresh, "#card-part");
      button = document.getElementById("pay");
      followCard();
      followMethods();
    }).catch(function () { /* the checkout itself still quotes and checks */ });
  }
  if (update) {
    update.hidden = true;
    choices.forEach(function (choice) { choice.addEventListener("change", requote); });
    ["f-country", "f-postal_code", "f-region"].forEach(function (id) {
      var input = document.getElementById(id);
      if (input) input.addEventListener("change", requote);
    });
    followMethods();
  }

  // Gift cards that cover the whole order leave nothing to pay by card: its fields wait, disabled.
  var cardFields = document.getElementById("card-fieldset");
  function followCard() {
    if (cardFields) cardFields.disabled = cardFields.hidden = button.dataset.card === "no";
  }
  // Enter in the gift card's field applies it (not the form's first button).
  var giftCode = document.getElementById("gift-card-code");
  var applyGift = document.getElementById("apply-gift-card");
  if (giftCode && applyGift) {
    giftCode.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); applyGift.click(); }
    });
  }

  function value(id) { return document.getElementById(id).value.replace(/\s+/g, ""); }
  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    button.disabled = false;
    busy = false;
  }

  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter === update) return; // a new quote, not a payment
    if (event.submitter && event.submitter.getAttribute("formaction")) return; // a gift card added or removed
    if (hidden.value || button.dataset.card === "no") return; // tokenised, or no card needed: submit as is
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
    // A new quote under way (the address just changed) lands first, so what is paid is what is shown.
    (pending || Promise.resolve()).then(function () {
      return fetch(form.dataset.sandbox + "/v1/payment_methods", {
      method: "POST",
      headers: { "Authorization": "Bearer " + form.dataset.key },
      body: body,
      credentials: "omit",
      referrerPolicy: "no-referrer"
      });
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
