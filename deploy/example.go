// Package deploy holds what operators need beside the binary: the
// commented example configuration (embedded here so that `oauthbridge
// serve` can write a starter file from it, and tests can keep it loadable),
// service units and container files.
package deploy

import _ "embed"

// ExampleConfig is deploy/oauthbridge.example.yaml: every configuration key
// with its documentation.
//
//go:embed oauthbridge.example.yaml
var ExampleConfig []byte
