// Package secretfile says whether a file holding a secret (the API token,
// a configuration with passwords) is private enough to be read without a
// warning.
//
// The rule is PostgreSQL's for its server key (ssl_key_file): a file the
// reader owns may not be accessible to group or others (0600 or less); a
// file root owns may also be read by its group (0640 or less). The second
// form is how a secret reaches a process that does not run as root when
// an administrator or an orchestrator provides it: Kubernetes writes a
// Secret volume's files owned by root, and with the pod's fsGroup adds
// group read to them, so a container running as a non-root user reads
// them through that group (deploy/kubernetes: defaultMode 0440, fsGroup).
package secretfile

import "io/fs"

// Private reports whether fi, the file's information from Stat, is
// private enough for a secret.
func Private(fi fs.FileInfo) bool {
	return PrivateMode(fi.Mode().Perm(), ownedByRoot(fi))
}

// PrivateMode is Private for a file with permission bits perm, owned by
// root or not.
func PrivateMode(perm fs.FileMode, rootOwned bool) bool {
	if perm&0o077 == 0 {
		return true
	}
	return rootOwned && perm&0o037 == 0
}

// Advice says how to make a file private, for an error or a warning.
const Advice = "chmod 600 it (or, owned by root, 640)"
