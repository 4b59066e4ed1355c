// The variant picker follows the pick: price, availability, image, SKU, the sold-out sizes of the picked
// colour, and the address bar. The form itself posts the picked options; the server resolves them to the
// SKU, so without this script the picker works the same (its "Check price and stock" button refreshes).
(function () {
  "use strict";
  var form = document.getElementById("picker");
  var data = document.getElementById("picker-data");
  if (!form || !data) return;
  var variants = JSON.parse(data.textContent).variants;
  var price = document.getElementById("price");
  var was = document.getElementById("was");
  var wasValue = document.getElementById("was-value");
  var now = document.getElementById("now");
  var availability = document.getElementById("availability");
  var sku = document.getElementById("sku");
  var skuValue = document.getElementById("sku-value");
  var gallery = document.getElementById("gallery");
  var quantity = document.getElementById("quantity");
  var button = document.getElementById("add-to-cart");
  var check = document.getElementById("check-pick");
  var initialPrice = price.textContent;
  var initialWas = wasValue.textContent;
  if (check) check.hidden = true;

  function picked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : null;
  }
  function hasOption(name) { return !!form.querySelector("input[name='" + name + "']"); }
  function find(size, colour) {
    if (variants.length === 1) return variants[0];
    for (var i = 0; i < variants.length; i++) {
      if (variants[i].size === size && variants[i].colour === colour) return variants[i];
    }
    return null;
  }
  function legend(id, value) {
    var span = document.getElementById(id);
    if (!span) return;
    span.textContent = value ? ": " : "";
    if (value) {
      var strong = document.createElement("strong");
      strong.textContent = value;
      span.appendChild(strong);
    }
  }
  function stockText(variant) {
    if (!variant) return { text: "Choose a size and colour", state: "" };
    if (variant.available <= 0) return { text: "Sold out in this size and colour", state: "out" };
    var left = variant.available < 5 ? " \u2014 only " + variant.available + " left" : "";
    return { text: "In stock" + left, state: "in" };
  }

  function update() {
    var size = hasOption("size") ? picked("size") : null;
    var colour = hasOption("colour") ? picked("colour") : null;
    var variant = find(size, colour);
    price.textContent = variant ? variant.price : initialPrice;
    var struck = variant ? variant.was : initialWas;  // the list price while on sale
    wasValue.textContent = struck;
    was.hidden = now.hidden = !struck;
    price.classList.toggle("sale", !!struck);
    var stock = stockText(variant);
    availability.textContent = stock.text;
    availability.className = "stock" + (stock.state ? " " + stock.state : "");
    sku.hidden = !variant;
    skuValue.textContent = variant ? variant.sku : "";
    if (button) button.disabled = !variant || variant.available <= 0;
    if (quantity && variant && variant.available > 0) {
      quantity.max = Math.min(variant.available, 99);
      if (+quantity.value > +quantity.max) quantity.value = quantity.max;
    }
    legend("picked-colour", colour);
    legend("picked-size", size);
    form.querySelectorAll("input[name='size']").forEach(function (input) {
      var option = find(input.value, colour);
      var soldOut = !option || option.available <= 0;
      var label = form.querySelector("label[for='" + input.id + "']");
      label.classList.toggle("sold-out", soldOut);
      label.querySelector(".sold-out-note").hidden = !soldOut;
    });
    var image = colour && gallery ? gallery.querySelector("img[data-colour='" + CSS.escape(colour) + "']") : null;
    if (image && image !== gallery.firstElementChild) gallery.insertBefore(image, gallery.firstElementChild);
    return { size: size, colour: colour };
  }

  form.addEventListener("change", function (event) {
    if (event.target.name !== "size" && event.target.name !== "colour") return;
    var pick = update();
    var params = new URLSearchParams(); // a reload or a shared link shows the same pick
    if (pick.colour) params.set("colour", pick.colour);
    if (pick.size) params.set("size", pick.size);
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  });
  update();
})();
