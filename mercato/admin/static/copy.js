// "Copy code": puts the element's text on the clipboard (the code is also selectable by hand).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (error) {
        window.getSelection().selectAllChildren(document.getElementById(button.dataset.copy));
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  }
});
