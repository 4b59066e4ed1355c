// The promotion form shows only what applies: the fields of the chosen action, and no cart conditions,
// limits or codes for a sale. Without JavaScript every field shows, each saying when it applies.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("promotion-form");
  if (!form) return;
  const trigger = form.elements.namedItem("trigger");
  const action = form.elements.namedItem("type");
  const update = () => {
    for (const el of form.querySelectorAll("[data-action]")) {
      el.hidden = !el.dataset.action.split(" ").includes(action.value);
    }
    for (const el of form.querySelectorAll("[data-cart-only]")) el.hidden = trigger.value === "sale";
    for (const el of form.querySelectorAll("[data-trigger]")) el.hidden = el.dataset.trigger !== trigger.value;
  };
  trigger.addEventListener("change", update);
  action.addEventListener("change", update);
  update();
});
