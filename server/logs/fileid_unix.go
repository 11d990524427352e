//go:build !windows

package logs

import (
	"os"
	"syscall"
)

// fileID identifies a file across renames: device and inode.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)} //nolint:unconvert // Dev is int32 on darwin
	}
	return fileID{}
}

// statPath returns the identity and size of the file at p.
func statPath(p string) (fileID, int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return fileID{}, 0, err
	}
	return idOf(fi), fi.Size(), nil
}

// statFile returns the identity and size of an open file.
func statFile(f *os.File) (fileID, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, 0, err
	}
	return idOf(fi), fi.Size(), nil
}

// openShared opens a log file for reading. O_NONBLOCK: a FIFO planted
// where a log file was expected must not block the open (regular files
// ignore the flag); use refuses anything but a regular file.
func openShared(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
