// Package config loads and checks oauthbridge's YAML configuration and
// carries the provider presets (Microsoft 365 / Outlook.com, Google).
//
// A configuration is valid or it is refused at start with a message that
// names the offending key (for example `providers.lab.imap.tls: must be
// implicit or starttls`). The commented example in
// deploy/oauthbridge.example.yaml is loaded by a test, so it stays true.
//
// Loading is strict: unknown keys are refused (a typo must not silently
// fall back to a default), client secrets may come from the environment or
// a file and never appear in an error text, and every problem is reported
// as "file:line: key.path: what is wrong" so an operator can fix it without
// reading code. Defaults are applied before validation, so a valid Config
// is complete: every field a caller reads has its final value.
package config
