/* Jobs on the pages, progressively enhanced (everything works without this file):
 * - a job page (#job[data-job-url]) follows its job through the JSON API and updates the
 *   <progress> bar, numbers, message, result link and errors; without JS a <noscript> meta
 *   refresh reloads the page instead;
 * - forms marked data-submit-once disable their buttons once sent, so a second click cannot
 *   start a second job (the server also drops a repeated form token).
 */
(function () {
  "use strict";

  function formatNumber(n) {
    return Number(n || 0).toLocaleString("en-US");
  }

  function follow(section) {
    var url = section.getAttribute("data-job-url");
    var delay = 1000;
    var finished = ["done", "failed", "cancelled"];
    var field = function (name) {
      return document.querySelector('[data-job-field="' + name + '"]');
    };

    function render(job) {
      var bar = document.getElementById("job-progress");
      var total = job.total || 0;
      var done = finished.indexOf(job.state) >= 0;
      if (bar) {
        bar.max = total || 1;
        bar.value = total ? job.done : (done ? 1 : 0);
      }
      var percent = total ? Math.round((100 * job.done) / total) : (done ? 100 : 0);
      field("state").textContent = job.state;
      field("state").className = "badge job-state job-state--" + job.state;
      field("numbers").textContent = formatNumber(job.done) + " of " + formatNumber(total);
      field("percent").textContent = String(percent);
      field("message").textContent = job.message || "";
      section.setAttribute("data-job-state", job.state);
      if (job.finished_at) {
        field("finished_at").textContent = job.finished_at.replace("T", " ").slice(0, 19);
      }
      var result = document.querySelector("[data-job-result]");
      if (result && job.state === "done" && job.result_url) {
        field("result_url").href = job.result_url;
        result.hidden = false;
      }
      var errors = document.querySelector("[data-job-errors]");
      if (errors && job.state === "failed") {
        var list = field("errors");
        list.textContent = "";
        (job.errors || []).forEach(function (error) {
          var item = document.createElement("li");
          item.textContent = error.message;
          list.appendChild(item);
        });
        errors.hidden = false;
      }
      if (done) {
        document.querySelectorAll("[data-job-hide-when-finished]").forEach(function (el) {
          el.hidden = true;
        });
      }
      return done;
    }

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (job) {
          if (!render(job)) window.setTimeout(poll, delay);
        })
        .catch(function () {
          delay = Math.min(delay * 2, 10000);
          window.setTimeout(poll, delay);
        });
    }

    if (finished.indexOf(section.getAttribute("data-job-state")) < 0) poll();
  }

  function submitOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-submitted") === "true") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-submitted", "true");
      // Disabled after this tick, so the clicked button's name/value is still sent.
      window.setTimeout(function () {
        form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        });
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.querySelector("#job[data-job-url]");
    if (section) follow(section);
    document.querySelectorAll("form[data-submit-once]").forEach(submitOnce);
  });
})();
