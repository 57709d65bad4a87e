// Sends the invitation token from this page's address and the password typed to the API.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("accept");
  const outcome = document.getElementById("outcome");
  const token = new URLSearchParams(window.location.search).get("token");
  const say = (text, kind) => {
    outcome.textContent = text;
    outcome.className = kind;
  };
  if (!token) {
    form.hidden = true;
    say("This link has no invitation in it. Open the link from your email again.", "refused");
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Joining...", "");
    let response;
    try {
      response = await fetch("/api/v1/invitations/accept", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ token, password: form.password.value }),
      });
    } catch (error) {
      say("The service could not be reached. Try again in a moment.", "refused");
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      form.hidden = true;
      say("You have joined the organization. Sign in with your email and this password.", "done");
      return;
    }
    const detail = Array.isArray(body.detail)
      ? body.detail.map((item) => item.msg).join("; ")
      : body.detail || `The invitation could not be accepted (${response.status}).`;
    say(detail, "refused");
  });
});
