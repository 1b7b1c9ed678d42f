//go:build tools

// Package tools pins the Pulumi CLI and the Python language host so that
// `go build` can produce them from the Go module proxy alone.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
)
