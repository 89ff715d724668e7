// SPDX-License-Identifier: GPL-3.0-or-later
import { login } from "/api.js";

const form = document.getElementById("login");
const message = document.getElementById("message");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  try {
    await login(form.user.value, form.password.value);
    window.location.assign("/services.html");
  } catch (e) {
    form.password.value = "";
    message.textContent = e.message;
  }
});
