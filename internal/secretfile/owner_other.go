//go:build !unix

package secretfile

import "io/fs"

// ownedByRoot is false where files have no Unix owner: only the
// permission bits count.
func ownedByRoot(fs.FileInfo) bool { return false }
