/* ViMbAdmin: light and dark colour modes (Bootstrap 5.3 data-bs-theme).
 * Loaded without defer in <head> so the page is painted in the right mode from the start.
 * Follows the system's prefers-color-scheme until the user picks a mode with the toggle;
 * that choice is remembered in this browser (localStorage). */
(function () {
  "use strict";

  var KEY = "vimb-theme";
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (e) {
      return null;
    }
  }

  function preferred() {
    return stored() || (media && media.matches ? "dark" : "light");
  }

  function apply(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    document.querySelectorAll("[data-vimb-theme-toggle]").forEach(function (button) {
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    });
  }

  apply(preferred());

  if (media) {
    var follow = function () {
      if (!stored()) {
        apply(preferred());
      }
    };
    if (media.addEventListener) {
      media.addEventListener("change", follow);
    } else if (media.addListener) {
      media.addListener(follow);
    }
  }

  function init() {
    document.querySelectorAll("[data-vimb-theme-toggle]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var next = document.documentElement.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
        try {
          window.localStorage.setItem(KEY, next);
        } catch (e) {
          /* Storage may be disabled: the mode then lasts for this page only. */
        }
        apply(next);
      });
    });
    apply(preferred());
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
