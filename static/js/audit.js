// audit.js: behaviour of the audit pages.
