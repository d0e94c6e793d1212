/* Keyboard labelling on the item page (issue 13): a label's digit (1-9, 0) or its own
   shortcut clicks that label's button in the label panel. The buttons are plain form
   submits, so this only saves finding them; htmx (when loaded) sends them in place. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "select" || tag === "textarea" || target.isContentEditable;
  }

  function findButton(panel, key) {
    var buttons = panel.querySelectorAll("button.label-button");
    var lower = key.toLowerCase();
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].dataset.key && buttons[i].dataset.key === key) return buttons[i];
    }
    for (var j = 0; j < buttons.length; j++) {
      if (buttons[j].dataset.shortcut && buttons[j].dataset.shortcut === lower) return buttons[j];
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || event.key.length !== 1) return;
    var panel = document.getElementById("label-controls");
    if (!panel) return;
    var button = findButton(panel, event.key);
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });
})();
