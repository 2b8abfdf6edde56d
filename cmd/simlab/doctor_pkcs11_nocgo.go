//go:build !cgo

package main

import "context"

// pkcs11Probe is never called in a build without cgo: doctorProbes leaves
// the probe nil because pkcs11.Supported is false, and the doctor reports
// PKCS#11 as not compiled in.
var pkcs11Probe func(ctx context.Context, path string) (string, error)
