/* ViMbAdmin: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  /* The menu toggle on narrow screens (without JS the menu is always open). */
  function initToggles() {
    document.querySelectorAll("[data-vimb-toggle]").forEach(function (button) {
      var target = document.querySelector(button.getAttribute("data-vimb-toggle"));
      if (!target) {
        return;
      }
      button.addEventListener("click", function () {
        var open = target.classList.toggle("show");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
  }

  /* Search as you type: forms marked data-autosubmit submit shortly after the last keystroke. */
  var FOCUS_KEY = "vimb-autosubmit-focus";

  function initAutosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      var delay = parseInt(form.getAttribute("data-autosubmit"), 10) || 400;
      var timer = null;
      function submitSoon(input) {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          try {
            window.sessionStorage.setItem(FOCUS_KEY, form.id + "\u0000" + input.name);
          } catch (e) {
            /* Storage may be disabled; focus is then simply not restored. */
          }
          if (typeof form.requestSubmit === "function") {
            form.requestSubmit();
          } else {
            form.submit();
          }
        }, delay);
      }
      form.querySelectorAll("input[type=search], input[type=text], input:not([type])").forEach(
        function (input) {
          var last = input.value;
          input.addEventListener("input", function () {
            if (input.value !== last) {
              last = input.value;
              submitSoon(input);
            }
          });
        }
      );
      form.addEventListener("submit", function () {
        window.clearTimeout(timer);
      });
    });
    /* After the reload, put the cursor back where the user was typing. */
    var saved = null;
    try {
      saved = window.sessionStorage.getItem(FOCUS_KEY);
      window.sessionStorage.removeItem(FOCUS_KEY);
    } catch (e) {
      saved = null;
    }
    if (saved) {
      var parts = saved.split("\u0000");
      var form = parts[0] ? document.getElementById(parts[0]) : document.querySelector("form[data-autosubmit]");
      var input = form && form.elements.namedItem(parts[1]);
      if (input && typeof input.focus === "function") {
        input.focus();
        var end = input.value.length;
        try {
          input.setSelectionRange(end, end);
        } catch (e) {
          /* Some input types do not support a selection. */
        }
      }
    }
  }

  /* Copy to clipboard: [data-copy="text"] or [data-copy-target="#element"]. */
  function copyText(text, button) {
    function done(ok) {
      var label = button.getAttribute("data-copied-label") || "Copied";
      var original = button.getAttribute("data-original-label") || button.textContent;
      button.setAttribute("data-original-label", original);
      button.textContent = ok ? label : button.getAttribute("data-copy-failed-label") || "Copy failed";
      window.setTimeout(function () {
        button.textContent = original;
      }, 2000);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () {
          done(true);
        },
        function () {
          done(false);
        }
      );
    } else {
      done(false);
    }
  }

  function textOf(element) {
    if ("value" in element && typeof element.value === "string" && element.tagName !== "BUTTON") {
      return element.value;
    }
    return element.textContent.trim();
  }

  function initCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy], [data-copy-target]");
      if (!button) {
        return;
      }
      event.preventDefault();
      var text = button.getAttribute("data-copy");
      if (text === null) {
        var target = document.querySelector(button.getAttribute("data-copy-target"));
        text = target ? textOf(target) : "";
      }
      copyText(text, button);
    });
  }

  /* Generate password: fills the form's new-password inputs with a random password. */
  var ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789#%+-.=@_";
  var LENGTH = 20;

  function randomPassword(length) {
    var out = "";
    /* Rejection sampling keeps every character equally likely. */
    var limit = 256 - (256 % ALPHABET.length);
    var bytes = new Uint8Array(length * 2);
    while (out.length < length) {
      window.crypto.getRandomValues(bytes);
      for (var i = 0; i < bytes.length && out.length < length; i++) {
        if (bytes[i] < limit) {
          out += ALPHABET.charAt(bytes[i] % ALPHABET.length);
        }
      }
    }
    return out;
  }

  function passwordTargets(button, form) {
    var ids = [button.getAttribute("data-target"), button.getAttribute("data-confirm")].filter(Boolean);
    if (ids.length) {
      return ids.map(function (id) {
        return document.getElementById(id);
      }).filter(Boolean);
    }
    /* Never the current password: only the fields that take the new one. */
    return Array.prototype.slice.call(
      form.querySelectorAll("input[type=password]:not([autocomplete=current-password])")
    );
  }

  function showPassword(button, form, password) {
    /* A template may offer its own place for the password; otherwise add one after the button. */
    var holder = button.parentElement && button.parentElement.querySelector(".js-generated-password");
    if (holder) {
      holder.textContent = password;
      return;
    }
    var box = form.querySelector(".generated-password");
    if (!box) {
      box = document.createElement("div");
      box.className = "generated-password";
      box.setAttribute("role", "status");
      var label = document.createElement("span");
      label.textContent = button.getAttribute("data-shown-label") || "New password:";
      var code = document.createElement("code");
      code.className = "js-generated-password-value";
      code.id = (form.id || "form") + "-generated-password";
      var copy = document.createElement("button");
      copy.type = "button";
      copy.className = "btn btn-outline-secondary btn-sm";
      copy.textContent = button.getAttribute("data-copy-label") || "Copy";
      copy.setAttribute("data-copy-target", "#" + code.id);
      if (button.hasAttribute("data-copied-label")) {
        copy.setAttribute("data-copied-label", button.getAttribute("data-copied-label"));
      }
      box.appendChild(label);
      box.appendChild(code);
      box.appendChild(copy);
      button.insertAdjacentElement("afterend", box);
    }
    box.querySelector("code").textContent = password;
  }

  function initGeneratePassword() {
    document.querySelectorAll(".js-generate-password").forEach(function (button) {
      /* Hidden in the markup so that pages without JavaScript do not offer it. */
      button.hidden = false;
      button.addEventListener("click", function (event) {
        event.preventDefault();
        var form = button.form || button.closest("form");
        if (!form) {
          return;
        }
        var password = randomPassword(Math.max(16, parseInt(button.getAttribute("data-length"), 10) || LENGTH));
        passwordTargets(button, form).forEach(function (input) {
          input.value = password;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
        showPassword(button, form, password);
      });
    });
  }

  /* The new-mailbox form: picking another domain puts that domain's default quota in the
   * quota field (select[data-default-quotas], a JSON map), unless the user typed a quota. */
  function initDefaultQuota() {
    document.querySelectorAll("select[data-default-quotas]").forEach(function (select) {
      var quota = document.getElementById(select.getAttribute("data-quota-field"));
      var defaults;
      try {
        defaults = JSON.parse(select.getAttribute("data-default-quotas"));
      } catch (e) {
        return;
      }
      if (!quota) {
        return;
      }
      var filled = quota.value;
      select.addEventListener("change", function () {
        var value = defaults[select.value];
        if (value === undefined || quota.value !== filled) {
          return;
        }
        quota.value = value;
        filled = value;
      });
    });
  }

  /* A JSON answer of one of the app's scoped endpoints, or null (not found, not allowed, offline). */
  function fetchJson(url) {
    return window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .catch(function () { return null; });
  }

  /* A typed domain field (input[data-domain-suggest], forms with more domains than a select
     holds): a datalist of the user's domains that start with what is typed, from the scoped
     suggest endpoint. Without this script the field is a plain text field. */
  function initDomainSuggest() {
    document.querySelectorAll("input[data-domain-suggest]").forEach(function (input) {
      if (!window.fetch) {
        return;
      }
      var url = input.getAttribute("data-domain-suggest");
      var list = document.createElement("datalist");
      list.id = input.id + "-suggestions";
      input.insertAdjacentElement("afterend", list);
      input.setAttribute("list", list.id);
      input.setAttribute("autocomplete", "off");
      var timer = null;
      var asked = 0;
      function suggest() {
        var mine = ++asked;
        fetchJson(url + "?q=" + encodeURIComponent(input.value.trim())).then(function (data) {
          if (mine !== asked || !data) {
            return;
          }
          list.textContent = "";
          (data.domains || []).forEach(function (name) {
            var option = document.createElement("option");
            option.value = name;
            list.appendChild(option);
          });
        });
      }
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(suggest, 150);
      });
      input.addEventListener("focus", function () {
        if (!list.firstChild) {
          suggest();
        }
      });
    });
  }

  /* Create forms (templates/_create_room_note.html): when another domain is picked or typed,
     ask the scoped room endpoint about that one domain and show its usage, or the reason
     creating is refused; the form's create button is disabled while the reason shows (the
     server refuses a full domain either way). A typed domain also brings its default quota,
     as a select does in initDefaultQuota, unless a quota was typed. */
  function initCreateRoom() {
    document.querySelectorAll("[data-room-url]").forEach(function (box) {
      var field = document.getElementById(box.getAttribute("data-domain-field"));
      var form = box.closest("form");
      var submit = form && form.querySelector("button[type=submit]");
      var reason = box.querySelector("[data-room-blocked]");
      var note = box.querySelector("[data-room-note]");
      if (!field || !submit || !reason || !note || !window.fetch) {
        return;
      }
      var url = box.getAttribute("data-room-url");
      var quota = field.hasAttribute("data-default-quotas")
        ? null
        : document.getElementById(box.getAttribute("data-quota-field") || "");
      var filled = quota ? quota.value : "";
      var asked = 0;
      var timer = null;
      var last = field.value.trim();
      function block(text) {
        reason.textContent = text;
        reason.hidden = !text;
        submit.disabled = Boolean(text);
        if (text) {
          submit.setAttribute("aria-describedby", reason.id);
        } else {
          submit.removeAttribute("aria-describedby");
        }
      }
      function show(room) {
        block((room && room.blocked) || "");
        note.textContent = (room && room.note) || "";
        note.hidden = !note.textContent;
        if (room && quota && room.default_quota !== undefined && quota.value === filled) {
          quota.value = room.default_quota;
          filled = room.default_quota;
        }
      }
      function ask() {
        var typed = field.value.trim();
        if (typed === last) {
          return;
        }
        last = typed;
        var mine = ++asked;
        if (!typed) {
          show(null);
          return;
        }
        fetchJson(url + "?domain=" + encodeURIComponent(typed)).then(function (room) {
          if (mine === asked) {
            show(room);
          }
        });
      }
      block(reason.textContent.trim());
      field.addEventListener("change", ask);
      if (field.tagName === "INPUT") {
        field.addEventListener("input", function () {
          window.clearTimeout(timer);
          timer = window.setTimeout(ask, 250);
        });
      }
    });
  }

  /* Checkbox lists (templates/_checklist.html): a filter box narrows the list as one types;
     ticked items always stay in sight, and a line counts how many are ticked. Without this
     script the filter box stays hidden and the whole list is there to tick. */
  function initChecklists() {
    document.querySelectorAll("[data-vimb-checklist]").forEach(function (list) {
      var filter = list.querySelector("[data-vimb-checklist-filter]");
      var none = list.querySelector("[data-vimb-checklist-none]");
      var count = list.querySelector("[data-vimb-checklist-count]");
      var items = Array.prototype.slice.call(list.querySelectorAll("[data-vimb-checklist-item]"));
      var texts = items.map(function (item) {
        return item.textContent.trim().toLowerCase();
      });
      var countText = list.getAttribute("data-vimb-checklist-counted") || "";
      function update() {
        var words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
        var shown = 0;
        var ticked = 0;
        items.forEach(function (item, index) {
          var box = item.querySelector("input");
          var checked = box && box.checked;
          if (checked) {
            ticked += 1;
          }
          var match = words.every(function (word) {
            return texts[index].indexOf(word) !== -1;
          });
          item.hidden = !(match || checked);
          if (!item.hidden) {
            shown += 1;
          }
        });
        none.hidden = shown > 0 || items.length === 0;
        count.textContent = countText.replace("%(count)s", String(ticked));
      }
      filter.hidden = false;
      filter.addEventListener("input", update);
      filter.addEventListener("keydown", function (event) {
        /* Enter in the filter must not submit the whole form. */
        if (event.key === "Enter") {
          event.preventDefault();
        }
      });
      list.addEventListener("change", update);
      update();
    });
  }

  /* A list's "all on this page" box ticks every row's box (without a script the bulk page
     reads the page's keys instead), and shows "some" when only some rows are ticked. */
  function initSelectPage() {
    document.querySelectorAll("input[data-vimb-select-page]").forEach(function (all) {
      var formId = all.getAttribute("form");
      var boxes = Array.prototype.slice.call(
        document.querySelectorAll('input[type=checkbox][name=key][form="' + formId + '"]')
      );
      function update() {
        var ticked = boxes.filter(function (box) { return box.checked; }).length;
        all.checked = boxes.length > 0 && ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      }
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        all.indeterminate = false;
      });
      boxes.forEach(function (box) { box.addEventListener("change", update); });
      update();
    });
  }

  /* Dates are shown in the browser's time zone: the server reads it from this cookie
     (vimbadmin.timezones); the first page is in the server's zone, every later one in the user's. */
  function initTimeZone() {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return;
    }
    var current = document.cookie.split("; ").filter(function (item) {
      return item.indexOf("vimb_tz=") === 0;
    })[0];
    var value = encodeURIComponent(zone);
    if (zone && current !== "vimb_tz=" + value) {
      document.cookie = "vimb_tz=" + value + "; path=/; max-age=31536000; SameSite=Lax";
    }
  }

  /* Alias destinations: a field with a datalist of the user's addresses (from the scoped
     suggest endpoint) whose "Add" button appends the choice to the destinations textarea. */
  function initDestinationPicker() {
    document.querySelectorAll("[data-destination-picker]").forEach(function (picker) {
      var target = document.getElementById(picker.getAttribute("data-target"));
      var input = picker.querySelector("input");
      var list = picker.querySelector("datalist");
      var add = picker.querySelector("[data-destination-add]");
      var url = picker.getAttribute("data-suggest-url");
      if (!target || !input || !list || !add || !url || !window.fetch) {
        return;
      }
      picker.hidden = false;
      var timer = null;
      function domain() {
        var field = document.getElementById(picker.getAttribute("data-domain-field"));
        return (field && field.value) || picker.getAttribute("data-domain") || "";
      }
      function suggest() {
        var typed = input.value.trim();
        if (!typed) {
          return;
        }
        var query = "?q=" + encodeURIComponent(typed) + "&domain=" + encodeURIComponent(domain());
        window.fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { addresses: [] }; })
          .then(function (data) {
            list.textContent = "";
            (data.addresses || []).forEach(function (address) {
              var option = document.createElement("option");
              option.value = address;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(suggest, 150);
      });
      function append() {
        var value = input.value.trim();
        if (!value) {
          return;
        }
        var current = target.value.replace(/\s+$/, "");
        target.value = current ? current + "\n" + value : value;
        input.value = "";
        input.focus();
      }
      add.addEventListener("click", append);
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          append();
        }
      });
    });
  }

  function init() {
    initChecklists();
    initTimeZone();
    initDestinationPicker();
    initDomainSuggest();
    initCreateRoom();
    initToggles();
    initDefaultQuota();
    initAutosubmit();
    initCopy();
    initGeneratePassword();
    initSelectPage();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
