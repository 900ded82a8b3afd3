// The review page's behaviour: upload by drag and drop, the job list's refresh, and settling
// disputes (pick, type, keyboard) with opening + sum = closing recomputed as you type.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

function say(text) {
  const box = $("#message");
  box.textContent = text;
  if (text) setTimeout(() => { if (box.textContent === text) box.textContent = ""; }, 6000);
}

async function problem(response) {
  try { return (await response.json()).detail || response.statusText; }
  catch (error) { return response.statusText; }
}

// Who is reviewing: remembered in this browser, recorded with every revision.
const author = $("#author");
author.value = localStorage.getItem("dualread.author") || "reviewer";
author.addEventListener("change", () => localStorage.setItem("dualread.author", author.value.trim()));

// ---- the job list ------------------------------------------------------------------------

const uploadForm = $("#upload");
if (uploadForm) {
  const jobs = $("#jobs");
  const refresh = async () => {
    const response = await fetch("/partials/jobs");
    if (response.ok) jobs.innerHTML = await response.text();
  };
  const poll = async () => {
    const table = $("table.jobs", jobs);
    if (table && Number(table.dataset.pending) > 0) await refresh();
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);

  const upload = async (files) => {
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    for (const field of $$("select, input:not([type=file])", uploadForm)) {
      if (field.value) form.append(field.name, field.value);
    }
    say(`uploading ${files.length} file(s)…`);
    const response = await fetch("/v1/extractions", { method: "POST", body: form });
    if (!response.ok) { say(await problem(response)); return; }
    const body = await response.json();
    say(`queued ${body.jobs.length} job(s)`);
    await refresh();
  };
  $("#files").addEventListener("change", (event) => upload(event.target.files));
  for (const name of ["dragenter", "dragover"]) {
    uploadForm.addEventListener(name, (event) => { event.preventDefault(); uploadForm.classList.add("over"); });
  }
  uploadForm.addEventListener("dragleave", () => uploadForm.classList.remove("over"));
  uploadForm.addEventListener("drop", (event) => {
    event.preventDefault();
    uploadForm.classList.remove("over");
    upload(event.dataTransfer.files);
  });
}

// ---- one statement -----------------------------------------------------------------------

const review = $("#review");
if (review) {
  const job = review.dataset.job;
  const base = Number(review.dataset.revision);
  const account = Number(review.dataset.account);  // the account this tab shows (1 for the first)
  const disputes = $$("li.dispute");
  let current = -1;

  const showPage = (page) => {
    for (const figure of $$("figure.page")) figure.hidden = figure.dataset.page !== String(page);
    for (const tab of $$("[data-show-page]")) {
      if (tab.dataset.showPage === String(page)) tab.setAttribute("aria-current", "true");
      else tab.removeAttribute("aria-current");
    }
  };
  for (const tab of $$("[data-show-page]")) tab.addEventListener("click", () => showPage(tab.dataset.showPage));

  const select = (index) => {
    if (!disputes.length) return;
    current = (index + disputes.length) % disputes.length;
    const item = disputes[current];
    for (const element of $$(".current")) element.classList.remove("current");
    item.classList.add("current");
    item.scrollIntoView({ block: "nearest" });
    const { row, field, page } = item.dataset;
    if (page) showPage(page);
    for (const box of $$(`.hl[data-field="${field}"][data-row="${row}"]`)) box.classList.add("current");
    if (row !== "") $(`tr[data-row="${row}"]`)?.classList.add("current");
  };
  disputes.forEach((item, index) => item.addEventListener("focus", () => { if (current !== index) select(index); }));

  const save = async (item, value) => {
    const correction = { field: item.dataset.field, row: item.dataset.row === "" ? null : Number(item.dataset.row), value };
    const response = await fetch(`/v1/extractions/${job}/revisions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ base, account, author: author.value.trim() || "reviewer", corrections: [correction] }),
    });
    if (!response.ok) { say(await problem(response)); return; }
    sessionStorage.setItem("dualread.next", String(current));
    location.reload();
  };
  const pick = (item, button) => save(item, JSON.parse(button.dataset.value));
  for (const item of disputes) {
    for (const button of $$("button.pick", item)) button.addEventListener("click", () => pick(item, button));
    const form = $("form.correct", item);
    if (form) {
      form.addEventListener("submit", (event) => { event.preventDefault(); save(item, form.value.value); });
      form.value.addEventListener("input", () => liveTotals(item.dataset, form.value.value));
      form.value.addEventListener("blur", () => liveTotals());
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    const item = disputes[current];
    if (event.key === "j" || event.key === "ArrowDown") select(current + 1);
    else if (event.key === "k" || event.key === "ArrowUp") select(current - 1);
    else if (item && /^[1-9]$/.test(event.key)) {
      const button = $$("button.pick", item)[Number(event.key) - 1];
      if (button) pick(item, button);
    } else if (item && (event.key === "a" || event.key === "Enter")) {
      const button = $("button.pick.kept", item) || $("button.pick", item);
      if (button) pick(item, button);
    } else return;
    event.preventDefault();
  });

  // Money as BigInt ten-thousandths: exact, like the server's decimals.
  const SCALE = 10000n;
  const money = (text) => {
    if (text == null) return null;
    let t = String(text).replace(/[\s\u00a0']/g, "").replace(/[^0-9,.\-()+]/g, "");
    const negative = t.startsWith("-") || t.endsWith("-") || (t.startsWith("(") && t.endsWith(")"));
    t = t.replace(/[-+()]/g, "");
    // The last mark is the decimal one when one or two digits follow it (1.234,56 / 1,234.56);
    // otherwise every mark groups thousands (1.234). The server's parse is the one saved.
    const last = Math.max(t.lastIndexOf("."), t.lastIndexOf(","));
    const tail = last >= 0 ? t.length - last - 1 : 0;
    const decimals = tail === 1 || tail === 2;
    const whole = (decimals ? t.slice(0, last) : t).replace(/[.,]/g, "");
    const frac = decimals ? t.slice(last + 1) : "";
    if (!/^\d*$/.test(whole) || !/^\d*$/.test(frac) || (whole + frac) === "") return null;
    const value = BigInt(whole || "0") * SCALE + BigInt((frac + "0000").slice(0, 4));
    return negative ? -value : value;
  };
  const show = (value) => {
    if (value == null) return "?";
    const negative = value < 0n;
    const abs = negative ? -value : value;
    const cents = String(abs % SCALE).padStart(4, "0").replace(/0{1,2}$/, "");
    return `${negative ? "-" : ""}${abs / SCALE}.${cents.length < 2 ? cents.padEnd(2, "0") : cents}`;
  };
  const header = (name) => { const cell = $(`#f-${name}`); return cell ? money(cell.textContent.trim()) : null; };
  function liveTotals(edit = null, typed = null) {
    let opening = header("opening_balance");
    let closing = header("closing_balance");
    let sum = 0n;
    for (const row of $$("table.rows tbody tr")) {
      if (row.dataset.counted !== "1") continue;
      let amount = money(row.dataset.amount);
      if (edit && edit.field === "amount" && edit.row === row.dataset.row) amount = money(typed);
      sum += amount ?? 0n;
    }
    if (edit && edit.row === "" && edit.field === "opening_balance") opening = money(typed);
    if (edit && edit.row === "" && edit.field === "closing_balance") closing = money(typed);
    const expected = opening == null ? null : opening + sum;
    const ok = expected == null || closing == null ? null : expected === closing;
    $("#t-opening").textContent = show(opening);
    $("#t-sum").textContent = show(sum);
    $("#t-expected").textContent = show(expected);
    $("#t-closing").textContent = show(closing);
    $("#t-verdict").textContent = ok === null ? "? not checkable" : ok ? "✓ holds" : "✗ does not hold";
    $("#arithmetic").className = `arith ${ok === null ? "unknown" : ok ? "ok" : "bad"}`;
  }

  const next = sessionStorage.getItem("dualread.next");
  sessionStorage.removeItem("dualread.next");
  if (disputes.length) select(next === null ? 0 : Math.min(Number(next), disputes.length - 1));
}
