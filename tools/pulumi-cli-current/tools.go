//go:build tools

// Package tools pins the current Pulumi CLI (the second engine lane) so that `go build` can
// produce it from the Go module proxy alone. Only the CLI: the Python language host of this
// release is a separate module the proxy refuses, so this lane pairs the CLI with the pinned
// lane's host (see scripts/provide-pulumi.sh).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
