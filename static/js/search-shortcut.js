// "/" or Ctrl+K (Cmd+K) puts the cursor in the header's search box, unless the person is typing
// somewhere already (then "/" is just a character). Hooked by data-search-shortcut.
(function () {
  "use strict";
  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  document.addEventListener("keydown", function (event) {
    var box = document.querySelector("[data-search-shortcut]");
    if (!box) return;
    var ctrlK = (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target);
    if (!ctrlK && !slash) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
})();
