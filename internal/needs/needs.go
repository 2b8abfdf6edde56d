// Package needs lets integration tests state what they need from the machine
// (a program, a library, a daemon). When it is missing the test is skipped
// with a message naming the Debian package to install, unless the CI
// environment variable is set: under CI a missing dependency fails the test,
// so a CI run can never pass by skipping what it was meant to exercise.
package needs

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing skips t (or fails it under CI) saying what is missing and how to
// get it.
func Missing(t testing.TB, what, fix string) {
	t.Helper()
	msg := fmt.Sprintf("needs %s: %s", what, fix)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so a missing dependency is a failure)", msg)
	}
	t.Skip(msg)
}

// Command returns the path of the program name, or skips/fails t when it is
// not on PATH. pkg is the Debian package that provides it.
func Command(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the program "+name, "apt-get install "+pkg)
	}
	return p
}

// File returns path when it exists, or skips/fails t. pkg is the Debian
// package that provides it.
func File(t testing.TB, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, path, "apt-get install "+pkg)
	}
	return path
}
