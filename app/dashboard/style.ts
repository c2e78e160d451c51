/** The dashboard's own small stylesheet, served as a file (the CSP allows no inline style). Readable on a phone. */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0550ae; --ok: #116329; --bad: #a40e26; --bg: #ffffff; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--soft); }
.brand { font-weight: 700; text-decoration: none; color: var(--ink); }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a[aria-current="page"] { font-weight: 700; color: var(--ink); }
.sign-out { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 1.5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; }
.meta { color: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); }
.status { display: inline-block; padding: 0 .4rem; border-radius: .3rem; font-size: .9em; border: 1px solid currentColor; }
.status-pending { color: #6f4e00; }
.status-approved { color: var(--ok); }
.status-rejected, .status-failed, .status-timed_out, .status-cancelled { color: var(--bad); }
.ok { color: var(--ok); }
.refused { color: var(--bad); }
.notice { padding: .5rem .75rem; border: 1px solid var(--line); border-radius: .4rem; background: var(--soft); }
.empty { color: var(--muted); }
.filter-form { margin-bottom: 1rem; }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .5rem 1rem; margin-bottom: .5rem; }
label { display: block; font-weight: 600; font-size: .9rem; }
input, select, textarea { width: 100%; font: inherit; padding: .3rem .4rem; border: 1px solid #8c959f; border-radius: .3rem; }
button, .button { display: inline-block; font: inherit; padding: .35rem .9rem; border-radius: .4rem; border: 1px solid #1f2328; background: #1f2328; color: #ffffff; cursor: pointer; text-decoration: none; }
button.approve { background: var(--ok); border-color: var(--ok); }
button.reject { background: var(--bad); border-color: var(--bad); }
.sign-out button { background: transparent; color: var(--ink); }
.vote-forms { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
.vote-forms form { display: grid; gap: .4rem; }
.links { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; }
.timeline { padding-left: 1.25rem; }
.requirement { border-left: 3px solid var(--line); padding-left: .75rem; margin-bottom: .75rem; }
code { background: var(--soft); padding: 0 .2rem; border-radius: .2rem; overflow-wrap: anywhere; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
