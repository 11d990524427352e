package logs

import (
	"os"

	"golang.org/x/sys/windows"
)

// fileID identifies a file across renames: volume serial and file index.
type fileID struct{ dev, ino uint64 }

// statFile returns the identity and size of an open file.
func statFile(f *os.File) (fileID, int64, error) {
	var bhfi windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &bhfi); err != nil {
		return fileID{}, 0, &os.PathError{Op: "GetFileInformationByHandle", Path: f.Name(), Err: err}
	}
	id := fileID{dev: uint64(bhfi.VolumeSerialNumber), ino: uint64(bhfi.FileIndexHigh)<<32 | uint64(bhfi.FileIndexLow)}
	return id, int64(bhfi.FileSizeHigh)<<32 | int64(bhfi.FileSizeLow), nil
}

// statPath returns the identity and size of the file at p.
func statPath(p string) (fileID, int64, error) {
	f, err := openShared(p)
	if err != nil {
		return fileID{}, 0, err
	}
	defer func() { _ = f.Close() }()
	return statFile(f)
}

// openShared opens a log file for reading without stopping its writer from
// renaming or deleting it (FILE_SHARE_DELETE), which os.Open does not allow.
func openShared(p string) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return os.NewFile(uintptr(h), p), nil
}
