/*
 * navbat's floating "Book online" button, for a salon's own site. The salon pastes:
 *
 *   <script src="https://<navbat>/static/navbat/book-button.js"
 *           data-navbat-book="https://<navbat>/book/<location>/" async></script>
 *
 * The button opens the salon's booking widget over the page in a frame; the close button,
 * the Escape key or a click outside closes it. Booking itself leaves the frame: the widget
 * sends the client on to their booking page and the payment page as whole pages.
 *
 * Optional attributes: data-label (the button's text; by default in the page's language,
 * Uzbek, Russian or English), data-lang (the widget's language; by default the page's, when
 * it is one of those three), data-position ("left" for the bottom left corner), data-color.
 *
 * Nothing here reads or writes the salon's page beyond its own elements; styles are set on
 * them directly, so the page's stylesheets and Content-Security-Policy for styles are not
 * involved.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    return;
  }
  var address = script.getAttribute("data-navbat-book");
  if (!address || !/^https?:\/\//i.test(address)) {
    return;
  }
  var LANGUAGES = ["uz", "ru", "en"];
  var LABELS = { uz: "Onlayn yozilish", ru: "Записаться онлайн", en: "Book online" };
  var CLOSE = { uz: "Yopish", ru: "Закрыть", en: "Close" };

  function pageLanguage() {
    var asked = (script.getAttribute("data-lang") || "").toLowerCase();
    if (LANGUAGES.indexOf(asked) >= 0) {
      return asked;
    }
    var lang = (document.documentElement.getAttribute("lang") || "").toLowerCase().slice(0, 2);
    return LANGUAGES.indexOf(lang) >= 0 ? lang : "";
  }

  var language = pageLanguage();
  var words = language || "uz";
  var color = script.getAttribute("data-color") || "#7000ff";
  var left = script.getAttribute("data-position") === "left";

  function frameAddress() {
    var url = address + (address.indexOf("?") >= 0 ? "&" : "?") + "embed=1";
    return language ? url + "&lang=" + language : url;
  }

  function set(element, styles) {
    for (var name in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, name)) {
        element.style.setProperty(name, styles[name]);
      }
    }
    return element;
  }

  var button = set(document.createElement("button"), {
    position: "fixed",
    bottom: "20px",
    "z-index": "2147483000",
    padding: "14px 20px",
    border: "0",
    "border-radius": "999px",
    background: color,
    color: "#fff",
    font: "600 16px/1.2 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "box-shadow": "0 6px 20px rgba(0, 0, 0, 0.25)",
    cursor: "pointer",
  });
  button.style.setProperty(left ? "left" : "right", "20px");
  button.type = "button";
  button.setAttribute("data-navbat-book-button", "");
  button.textContent = script.getAttribute("data-label") || LABELS[words];

  var overlay = null;
  var lastFocus = null;

  function close() {
    if (!overlay) {
      return;
    }
    overlay.parentNode.removeChild(overlay);
    overlay = null;
    document.documentElement.style.removeProperty("overflow");
    document.removeEventListener("keydown", onKey, true);
    if (lastFocus && lastFocus.focus) {
      lastFocus.focus();
    }
  }

  function onKey(event) {
    if (event.key === "Escape") {
      close();
    }
  }

  function open() {
    if (overlay) {
      return;
    }
    lastFocus = document.activeElement;
    var phone = window.innerWidth < 560;
    overlay = set(document.createElement("div"), {
      position: "fixed",
      inset: "0",
      "z-index": "2147483001",
      background: "rgba(16, 24, 40, 0.55)",
      display: "flex",
      "align-items": phone ? "stretch" : "center",
      "justify-content": "center",
    });
    overlay.setAttribute("data-navbat-book-overlay", "");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", button.textContent);
    overlay.addEventListener("click", function (event) {
      if (event.target === overlay) {
        close();
      }
    });

    var box = set(document.createElement("div"), {
      position: "relative",
      width: phone ? "100%" : "480px",
      height: phone ? "100%" : "min(760px, 92vh)",
      background: "#f6f7f9",
      "border-radius": phone ? "0" : "14px",
      overflow: "hidden",
      "box-shadow": "0 20px 50px rgba(0, 0, 0, 0.35)",
    });
    var frame = set(document.createElement("iframe"), {
      border: "0",
      width: "100%",
      height: "100%",
      display: "block",
    });
    frame.src = frameAddress();
    frame.title = button.textContent;
    frame.setAttribute("data-navbat-book-frame", "");
    var closer = set(document.createElement("button"), {
      position: "absolute",
      top: "8px",
      right: "8px",
      width: "36px",
      height: "36px",
      border: "0",
      "border-radius": "50%",
      background: "rgba(255, 255, 255, 0.95)",
      color: "#1d2430",
      font: "700 20px/36px system-ui, sans-serif",
      cursor: "pointer",
      "box-shadow": "0 1px 4px rgba(0, 0, 0, 0.2)",
    });
    closer.type = "button";
    closer.textContent = "×";
    closer.setAttribute("aria-label", CLOSE[words]);
    closer.setAttribute("data-navbat-book-close", "");
    closer.addEventListener("click", close);

    box.appendChild(frame);
    box.appendChild(closer);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    document.documentElement.style.setProperty("overflow", "hidden");
    document.addEventListener("keydown", onKey, true);
    closer.focus();
  }

  button.addEventListener("click", open);

  function place() {
    document.body.appendChild(button);
  }

  if (document.body) {
    place();
  } else {
    document.addEventListener("DOMContentLoaded", place);
  }
})();
