//go:build !unix

package soft

// lockFile is a no-op where flock is unavailable: one process per file is
// then the caller's responsibility.
func lockFile(string) (func(), error) { return func() {}, nil }
