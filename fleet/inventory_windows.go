package fleet

import "io/fs"

// checkOwnership relies on the profile directory's ACL on Windows, which
// only its user (and administrators) may write.
func checkOwnership(string, fs.FileInfo) error { return nil }
